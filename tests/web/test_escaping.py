"""What people and agencies typed is shown as text, never as markup: names, evidence,
grounds, reasons, organisations and purposes all come out escaped."""

from tests.conftest import EVENTS_HEADER, PEOPLE_HEADER, person, recent, write_csv
from tests.web.conftest import Portal

from socialcredit.services.events import import_events
from socialcredit.services.people import import_people

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
MALLORY = person(sequence=901)


def _posted(portal: Portal, who: str, path: str, **form: str) -> None:
    client = portal.client(who)
    answer = client.post(path, data={**form, "csrf_token": portal.session_csrf(client)})
    assert answer.status_code == 303, answer.text


def assert_escaped(html: str) -> None:
    assert "<script>" not in html and "<img src=x" not in html
    assert ESCAPED in html


def test_user_provided_text_is_escaped_everywhere(portal: Portal, tmp_path):
    people = write_csv(
        tmp_path / "p.csv",
        PEOPLE_HEADER,
        [f'{MALLORY},"{EVIL.replace(chr(34), chr(34) * 2)}",{EVIL.replace(chr(34), "")},false'],
    )
    assert import_people(portal.registry, people).added == 1
    events = write_csv(
        tmp_path / "e.csv",
        EVENTS_HEADER,
        [
            f'traffic-police,EVIL-1,{MALLORY},TRAFFIC-RED-LIGHT,{recent(2)},"{EVIL.replace(chr(34), chr(34) * 2)}"'
        ],
    )
    assert import_events(portal.registry, events).accepted == 1
    clerk = portal.client("clerk").get(f"/clerk/people/{MALLORY}")
    assert clerk.status_code == 200
    assert_escaped(clerk.text)  # the name and the evidence
    _posted(portal, "clerk", f"/clerk/people/{MALLORY}/contests", entry="traffic-police/EVIL-1",
            grounds=EVIL)  # fmt: skip
    assert_escaped(portal.client("agency").get("/agency/contests").text)  # the grounds
    _posted(portal, "agency", "/agency/contests/answer", event_id="EVIL-1", answer="verified",
            reason=EVIL)  # fmt: skip
    assert_escaped(portal.client("clerk").get("/clerk/contests").text)  # the agency's reason
    _posted(portal, "resident", "/me/consents/grant", organisation=EVIL, purpose=EVIL)
    assert_escaped(portal.client("resident").get("/me/consents").text)


def test_a_search_echoes_its_input_escaped(portal: Portal):
    answer = portal.client("clerk").get("/clerk", params={"person_id": EVIL})
    assert answer.status_code == 400
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text
    audit = portal.client("auditor").get("/auditor", params={"actor": EVIL})
    assert audit.status_code == 200 and "<script>" not in audit.text
