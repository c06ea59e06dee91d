"""A resident never sees another person's data on any page, whatever they send.

Zhang Jian's account walks every page it may open (and tries the ones it may not, with Li Na's
ID); nothing of Li Na's (ID, name, entry, rule) ever comes back, and her access log shows no
read by him.
"""

import re

from tests.conftest import LI_NA, ZHANG_JIAN
from tests.web.conftest import Portal
from tests.web.pages import PAGE_REQUESTS, call

from socialcredit.services import standing
from socialcredit.services.access import list_access
from socialcredit.web.access import PAGE_ACCESS

# Her ID, name, district, event and evidence (her rule is in the public catalogue).
HERS = (LI_NA, "李娜", "城西街道", "PS-1", "report 12")


def assert_nothing_of_hers(text: str, where: str) -> None:
    # Links may repeat what the resident typed in the address (the language switch goes back
    # to the same address): that is his own input, not her data.
    text = re.sub(r'href="[^"]*"', 'href=""', text)
    for secret in HERS:
        assert secret not in text, (where, secret)


def test_no_page_shows_a_resident_anyone_else(portal: Portal):
    resident = portal.client("resident")
    for method, path in sorted(PAGE_REQUESTS):
        if path in ("/login", "/logout"):
            continue
        for person_id in (ZHANG_JIAN, LI_NA, LI_NA.lower()):
            response = call(portal, method, path, "resident", person_id=person_id)
            assert_nothing_of_hers(response.text, f"{method} {path} {person_id}")
            if PAGE_ACCESS[(method, path)].admits("resident") or PAGE_ACCESS[(method, path)].public:
                continue
            assert response.status_code == 403, (method, path)
    # Query strings and form fields naming her change nothing either.
    for path in ("/me", "/me/access-log", "/me/notices", "/me/consents"):
        page = resident.get(path, params={"person_id": LI_NA, "id": LI_NA})
        assert page.status_code == 200
        assert_nothing_of_hers(page.text, path)
    assert [r for _, r in list_access(portal.registry, LI_NA) if r.actor == "zhang-jian"] == []


def test_a_resident_cannot_contest_anothers_entry(portal: Portal):
    client = portal.client("resident")
    form = {"entry": "public-security/PS-1", "grounds": "not hers",
            "csrf_token": portal.session_csrf(client)}  # fmt: skip
    refused = client.post("/me/contests", data=form)
    assert refused.status_code in (403, 422) and "only their own entries" in refused.text
    assert_nothing_of_hers(refused.text, "contest")
    hers = standing.statement(portal.registry, LI_NA)
    assert [entry.status for entry in hers.entries] == ["active"]  # not touched


def test_a_residents_consent_is_their_own(portal: Portal):
    client = portal.client("resident")
    form = {"organisation": "Weihai Bank", "purpose": "loan", "person_id": LI_NA,
            "csrf_token": portal.session_csrf(client)}  # fmt: skip
    assert client.post("/me/consents/grant", data=form).status_code == 303
    mine = client.get("/me/consents").text
    assert "Weihai Bank" in mine
    from socialcredit.services.consent import has_consent

    assert has_consent(portal.registry, ZHANG_JIAN, "Weihai Bank", "loan")
    assert not has_consent(portal.registry, LI_NA, "Weihai Bank", "loan")
