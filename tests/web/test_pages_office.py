"""The agency's upload, the office's dashboard and catalogue, the auditor's search, and the
one error page."""

import re
from pathlib import Path

import pytest
from tests.conftest import LI_NA, ZHANG_JIAN, recent
from tests.web.conftest import ANON, Portal, browser, log_in
from tests.web.helpers import post, text_of

from socialcredit.api import create_app
from socialcredit.services import users
from socialcredit.services.access import LOCAL, record_access
from socialcredit.services.catalogue import bundled_catalogue_path
from socialcredit.web.portal import install_portal

PNG = b"\x89PNG\r\n\x1a\n"


def _upload(portal: Portal, name: str, text: str) -> object:
    return post(portal, "agency", "/agency/upload",
                files={"file": (name, text.encode(), "text/csv")}, encoding="utf-8")  # fmt: skip


def test_an_agency_uploads_events_and_downloads_its_rejects(portal: Portal):
    text = (
        "agency,event_id,person_id,rule,occurred_on,evidence\n"
        f"traffic-police,UP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(2)},camera 9\n"
        f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(40)},camera 7\n"
        f"public-security,UP-2,{LI_NA},PUBLIC-FIGHT,{recent(2)},\n"
        f"traffic-police,UP-3,12345,TRAFFIC-RED-LIGHT,{recent(2)},\n"
    )
    answer = _upload(portal, "batch.csv", text)
    assert answer.status_code == 200
    counts = dict(re.findall(r'data-testid="(\w+)">(\d+)<', answer.text))
    assert counts == {"submitted": "4", "accepted": "1", "duplicates": "1", "rejected": "2"}
    page = text_of(answer.text)
    assert "not-your-agency" in page and "invalid-person-id" in page
    link = re.search(r'href="(/agency/rejects/[^"]+)"', answer.text)
    assert link
    rejects = portal.client("agency").get(link.group(1))
    assert rejects.status_code == 200 and rejects.headers["content-type"].startswith("text/csv")
    lines = rejects.text.splitlines()
    assert lines[0] == "row,reason,message,agency,event_id,person_id,rule,occurred_on,evidence"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["3", "not-your-agency"],
        ["4", "invalid-person-id"],
    ]
    # Only the account that uploaded may download them.
    other = users.add_user(portal.registry, "traffic-desk-2", "agency", agency="traffic-police")
    client = browser(portal.app)
    log_in(client, "traffic-desk-2", other.token)
    assert client.get(link.group(1)).status_code == 404
    assert portal.client("agency").get("/agency/rejects/not-a-token").status_code == 404
    # The new entry is in the statement.
    assert "UP-1" in portal.client("clerk").get(f"/clerk/people/{ZHANG_JIAN}").text


def test_uploads_that_are_not_event_files(portal: Portal):
    assert _upload(portal, "notes.txt", "hello").status_code == 415
    missing = _upload(portal, "events.csv", "agency,event_id\ntraffic-police,X\n")
    assert missing.status_code in (400, 422) and "person_id" in missing.text
    nothing = post(portal, "agency", "/agency/upload", encoding="utf-8")
    assert nothing.status_code == 400 and "Choose a file" in nothing.text


def test_the_dashboard_shows_plots_and_the_same_numbers(portal: Portal):
    admin = portal.client("admin")
    page = admin.get("/admin")
    assert page.status_code == 200
    alts = re.findall(r'<img src="([^"]+)"[^>]*alt="([^"]+)"', page.text)
    assert [src for src, _ in alts] == ["/admin/plots/grades.png", "/admin/plots/entries.png"]
    assert "A 2 (100.0%)" in alts[0][1] and "On the blacklist: 1" in alts[0][1]
    assert "2 entries in all" in alts[1][1]
    text = text_of(page.text)
    assert "A 2 100.0 %" in text and "traffic-police 1" in text and "public-security 1" in text
    for src, _alt in alts:
        image = admin.get(src)
        assert image.status_code == 200 and image.content.startswith(PNG)
    assert portal.client("auditor").get("/admin").status_code == 200


def test_the_catalogue_in_both_languages(make_registry, tmp_path: Path):
    registry = make_registry(f"sqlite:///{tmp_path / 'r.db'}", [bundled_catalogue_path()])
    client = browser(install_portal(create_app(registry)))
    english = text_of(client.get("/catalogue").text)
    assert "Version 2014.1" in english and "Running a red light" in english
    assert "Road Traffic Safety Law" in english and "civil-service-promotion" in english
    chinese = text_of(client.get("/catalogue", params={"lang": "zh"}).text)
    assert "闯红灯" in chinese and "道路交通安全法" in chinese and "荣成市人民法院" in chinese
    assert "法定必须（无需授权）" in client.get("/catalogue").text or "是" in chinese
    assert client.get("/catalogue", params={"version": "1999.9"}).status_code == 404
    client.close()


def test_the_auditor_searches_the_access_log(portal: Portal):
    for index in range(105):
        record_access(portal.registry, LOCAL, ZHANG_JIAN, "score", f"batch {index}")
    auditor = portal.client("auditor")
    empty = auditor.get("/auditor")
    assert empty.status_code == 200 and "Results" not in empty.text
    found = auditor.get("/auditor", params={"person_id": ZHANG_JIAN, "action": "score"})
    assert "Results (100)" in found.text and "batch 104" in found.text
    older = re.search(r'href="(/auditor\?[^"]*cursor=[^"]+)"', found.text)
    assert older
    rest = auditor.get(older.group(1).replace("&amp;", "&"))
    assert "Results (5)" in rest.text and "batch 0" in rest.text
    bad = auditor.get("/auditor", params={"since": "yesterday"})
    assert bad.status_code == 400 and "is not a date" in bad.text


def test_one_error_page_for_pages(portal: Portal, monkeypatch: pytest.MonkeyPatch):
    from socialcredit.web.pages import clerk

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(clerk.standing, "statement", explode)
    client = browser(portal.app, raise_server_exceptions=False)
    log_in(client, portal.accounts["clerk"].name, portal.tokens["clerk"])
    broken = client.get(f"/clerk/people/{ZHANG_JIAN}")
    assert broken.status_code == 500 and broken.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in broken.text and "passwd" not in broken.text
    wrong_method = client.put("/clerk", headers={"accept": "text/html"})
    assert wrong_method.status_code == 405 and "<h1>" in wrong_method.text
    assert wrong_method.headers["allow"] == "GET"


def test_a_page_upload_over_the_limit_gets_the_html_page(make_portal):
    portal = make_portal(api_max_request_bytes=2000)
    too_big = _upload(portal, "big.csv", "x" * 5000)
    assert too_big.status_code == 413 and too_big.headers["content-type"].startswith("text/html")
    assert "Too large" in too_big.text
    api = portal.client(ANON).post("/api/v1/events", content=b"x" * 5000)
    assert api.status_code == 413 and api.json()["error"]["code"] == "too-large"
