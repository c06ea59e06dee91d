"""Every read of a person's data over HTTP lands in that person's access log, with the
account, its role and organisation, the action and the declared purpose."""

from tests.api.conftest import API, ROLES, Town
from tests.api.requests import call
from tests.conftest import ZHANG_JIAN

from socialcredit.api.auth import route_table
from socialcredit.api.permissions import ROUTE_ACCESS

# (method, path) -> the action the access log names; the check reads by its body.
READS = {
    ("GET", f"{API}/people/{{person_id}}"): "score",
    ("GET", f"{API}/people/{{person_id}}/statement"): "statement",
    ("GET", f"{API}/people/{{person_id}}/access-log"): "access-log",
    ("POST", f"{API}/checks"): "check",
    ("GET", f"{API}/people/{{person_id}}/consents"): "consents",
    ("GET", f"{API}/people/{{person_id}}/notices"): "notices",
    # Reads that are not under a person's path but show people's data: each person shown
    # gets a row. The walk's requests show Zhang Jian (and the diff, everyone who changes).
    ("POST", f"{API}/catalogue/diff"): "grade-change",
    ("GET", f"{API}/contests"): "contests",
    ("GET", f"{API}/contests/{{agency}}/{{event_id}}"): "contest",
    ("GET", f"{API}/audit/access"): "access-log",
}
# Routes under a person's path that change, not read (their answer is the change made).
PERSON_WRITES = {
    ("POST", f"{API}/people/{{person_id}}/consents"),
    ("POST", f"{API}/people/{{person_id}}/consents/revoke"),
}
# Other reads of people's data, outside a person's path.
OTHER_READS = {
    ("POST", f"{API}/checks"),
    ("POST", f"{API}/catalogue/diff"),
    ("GET", f"{API}/contests"),
    ("GET", f"{API}/contests/{{agency}}/{{event_id}}"),
    ("GET", f"{API}/audit/access"),
}


def test_the_walk_covers_every_read_of_a_person(town: Town):
    person_routes = {
        (method, path)
        for (method, _), path in route_table(town.client.app).items()
        if "{person_id}" in path
    }
    assert (person_routes - PERSON_WRITES) | OTHER_READS == set(READS)


def test_every_read_endpoint_logs_every_allowed_role(town: Town):
    walked = 0
    for route, action in READS.items():
        access = ROUTE_ACCESS[route]
        for role in ROLES:
            if not access.admits(role):
                continue
            before = len(town.access_rows(ZHANG_JIAN))
            response = call(town, *route, role)
            assert response.status_code == 200, (route, role, response.text)
            rows = town.access_rows(ZHANG_JIAN)
            assert len(rows) == before + 1, (route, role)
            row = rows[-1]
            account = town.accounts[role]
            assert (row.actor, row.role, row.action) == (account.name, role, action)
            assert row.purpose, (route, role)
            walked += 1
    # score and statement: clerk, resident; access log: clerk, resident, auditor; check: verifier;
    # consents, notices: clerk, resident; the diff: admin; contests (list, one): agency, clerk,
    # resident, auditor; the access-log search: auditor, admin
    assert walked == 8 + 4 + 1 + 8 + 2


def test_the_pdf_statement_is_a_logged_read_too(town: Town):
    before = len(town.access_rows(ZHANG_JIAN))
    response = town.get(f"{API}/people/{ZHANG_JIAN}/statement", "clerk", params={"format": "pdf"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"statement-{ZHANG_JIAN}" in response.headers["content-disposition"]
    row = town.access_rows(ZHANG_JIAN)[-1]
    assert len(town.access_rows(ZHANG_JIAN)) == before + 1 and row.action == "statement"
    # The same signed statement as the CLI and the portal print: a bank can check it.
    answer = town.post(
        f"{API}/statements/verify",
        "verifier",
        files={"file": ("statement.pdf", response.content, "application/pdf")},
    ).json()
    assert answer["valid"] is True, answer
    assert answer["person"]["id"] == ZHANG_JIAN and answer["text"] == "matches"


def test_declared_purposes_and_defaults(town: Town):
    url = f"{API}/people/{ZHANG_JIAN}"
    town.get(url, "clerk")
    town.get(url, "clerk", params={"purpose": "办理贷款 loan desk"})
    town.get(url, "clerk", headers={"X-Purpose": "counter enquiry"})
    town.get(url, "resident")
    town.get(f"{url}/access-log", "auditor")
    purposes = [row.purpose for row in town.access_rows(ZHANG_JIAN)[-5:]]
    assert purposes == [
        "office enquiry",
        "办理贷款 loan desk",
        "counter enquiry",
        "own record",
        "audit",
    ]
    assert town.access_rows(ZHANG_JIAN)[-2].organisation is None  # a resident is no office
    assert town.access_rows(ZHANG_JIAN)[-1].organisation == "Social Credit Management Office"


def test_the_resident_sees_who_looked(town: Town):
    town.post(
        f"{API}/checks",
        "verifier",
        json={"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"},
    )
    page = town.get(f"{API}/people/{ZHANG_JIAN}/access-log", "resident").json()
    newest = page["items"][0]
    assert newest["actor"] == "bank-teller" and newest["purpose"] == "promotion"
    assert newest["organisation"] == "Rongcheng Rural Commercial Bank"
    assert newest["detail"]["policy"] == "civil-service-promotion"
