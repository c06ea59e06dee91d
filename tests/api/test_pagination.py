"""Cursor pagination on every list: ``{"items", "next_cursor"}``, bounded page size."""

from collections.abc import Callable

from tests.api.conftest import API, Town
from tests.api.errors import assert_error
from tests.conftest import FIXTURES, LI_NA

from socialcredit.services import standing


def test_access_log_pages(make_town: Callable[..., Town]):
    town = make_town(api_max_page_size=3)
    for n in range(7):
        standing.score(town.registry, LI_NA, purpose=f"read {n}")
    url = f"{API}/people/{LI_NA}/access-log"
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "100"} | ({"cursor": cursor} if cursor else {})
        page = town.get(url, "clerk", params=params).json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 3  # the limit is lowered to api_max_page_size
        seen += [item["purpose"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Newest first; each page's own read is logged after it is taken, so later pages can show
    # no read made after the walk began.
    reads = [p for p in seen if p.startswith("read ")]
    assert reads == [f"read {n}" for n in reversed(range(7))]
    assert pages >= 3 and len(seen) == len(set(zip(seen, range(len(seen)), strict=True)))


def test_a_cursor_of_another_list_is_refused(town: Town):
    catalogue_cursor = town.get(f"{API}/catalogue", params={"limit": "1"}).json()["next_cursor"]
    url = f"{API}/people/{LI_NA}/access-log"
    if catalogue_cursor is not None:
        assert_error(
            town.get(url, "clerk", params={"cursor": catalogue_cursor}), 400, "invalid-cursor"
        )
    for bad in ("!!!", "e30", "eyJrIjoiYWNjZXNzLWxvZyIsInAiOi0xfQ"):
        assert_error(town.get(url, "clerk", params={"cursor": bad}), 400, "invalid-cursor")


def test_catalogue_pages_through_versions(make_registry, tmp_path):
    from tests.api.conftest import build_town

    registry = make_registry(
        f"sqlite:///{tmp_path / 'r.db'}",
        [FIXTURES / "example-catalogue.yaml", FIXTURES / "scoring-v2.yaml"],
    )
    (tmp_path / "t").mkdir()
    town = build_town(registry, tmp_path / "t")
    first = town.get(f"{API}/catalogue", params={"limit": "1"}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = town.get(
        f"{API}/catalogue", params={"limit": "1", "cursor": first["next_cursor"]}
    ).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    versions = [first["items"][0]["version"], second["items"][0]["version"]]
    assert versions == [c.version for c in registry.catalogues()]
    assert first["in_force"] == registry.in_force(registry.clock.today()).version
