"""The pages about people, as their users use them: the clerk's search, record and printout,
the verifier's question, the resident's record, access log, notices and consents, and a
contest from the resident through the agency to the review officer."""

import io
import re

from pypdf import PdfReader
from tests.api.conftest import BANK
from tests.conftest import LI_NA, ZHANG_JIAN, person, shows_word
from tests.web.conftest import Portal
from tests.web.helpers import post, text_of

from socialcredit.services import consent
from socialcredit.services.access import LOCAL, list_access


def test_the_clerk_finds_a_person_and_the_look_is_logged_with_its_purpose(portal: Portal):
    clerk = portal.client("clerk")
    found = clerk.get(
        "/clerk", params={"person_id": f" {ZHANG_JIAN.lower()} ", "purpose": "tax audit"}
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/clerk/people/{ZHANG_JIAN}?purpose=tax+audit"
    page = text_of(clerk.get(found.headers["location"]).text)
    assert "张建" in page and "995" in page and "TRAFFIC-RED-LIGHT" in page and "camera 7" in page
    assert "Score = base 1000 + counted entries -5 = 995." in page
    read = [r for _, r in list_access(portal.registry, ZHANG_JIAN) if r.actor == "clerk-wang"]
    assert read and read[0].purpose == "tax audit" and read[0].action in ("statement", "contests")
    unknown = clerk.get("/clerk", params={"person_id": person(sequence=777)})
    assert unknown.status_code == 404 and "is not registered" in unknown.text
    invalid = clerk.get("/clerk", params={"person_id": "12345"})
    assert invalid.status_code == 400 and "not a valid resident ID" in invalid.text
    assert clerk.get("/clerk/people/12345").status_code == 400  # the HTML error page


def verdict(html: str) -> str:
    found = re.search(r'data-testid="verdict">([^<]*)<', html)
    return found.group(1) if found else ""


def test_the_printed_statement_is_signed_and_checks_out(portal: Portal):
    pdf = portal.client("clerk").get(f"/clerk/people/{ZHANG_JIAN}/statement.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "995" in text and ZHANG_JIAN in text
    anyone = portal.client("anonymous")
    anyone.get("/check-a-statement")
    token = anyone.cookies.get("sc_form")
    checked = anyone.post("/check-a-statement", data={"csrf_token": token},
                          files={"file": ("s.pdf", pdf.content, "application/pdf")})  # fmt: skip
    assert checked.status_code == 200 and verdict(checked.text) == "VALID"
    assert "995" in text_of(checked.text)
    tampered = pdf.content[: len(pdf.content) // 2]  # cut short: no signed statement in it
    refused = anyone.post("/check-a-statement", data={"csrf_token": token},
                          files={"file": ("s.pdf", tampered, "application/pdf")})  # fmt: skip
    bad_token = anyone.post("/check-a-statement", data={"csrf_token": token, "token": "SCS1.x.y"})
    for answer in (refused, bad_token):
        assert answer.status_code == 200 and verdict(answer.text) == "REFUSED"
    nothing = anyone.post("/check-a-statement", data={"csrf_token": token})
    assert nothing.status_code == 400 and "Upload a PDF" in nothing.text


def test_the_verifier_gets_an_answer_not_a_record(portal: Portal):
    eligible = post(portal, "verifier", "/verifier", grant="0", person_id=ZHANG_JIAN)
    page = text_of(eligible.text)
    assert eligible.status_code == 200 and "eligible" in page and "not eligible" not in page
    for record in ("995", "TRAFFIC-RED-LIGHT", "张建", "camera 7"):
        assert not shows_word(page, record)  # no score, no entries, no name
    refused = post(portal, "verifier", "/verifier", grant="1", person_id=LI_NA)
    page = text_of(refused.text)
    assert "not eligible" in page and "not on the blacklist" in page
    # Her notices name the verifier; her access log the question and its purpose.
    hers = [r for _, r in list_access(portal.registry, LI_NA) if r.action == "check"]
    assert hers and hers[0].organisation == BANK and hers[0].purpose == "hiring"


def test_a_check_without_consent_is_refused_plainly(portal: Portal):
    consent.revoke_consent(portal.registry, LI_NA, BANK, "hiring", LOCAL)
    refused = post(portal, "verifier", "/verifier", grant="1", person_id=LI_NA)
    assert refused.status_code == 403
    page = text_of(refused.text)
    assert "No consent: the person has not agreed" in page and "eligible" not in page
    assert post(portal, "verifier", "/verifier", grant="7", person_id=LI_NA).status_code == 400
    unknown = post(portal, "verifier", "/verifier", grant="0", person_id=person(sequence=778))
    assert unknown.status_code == 404


def test_verifiers_are_rate_limited_on_the_pages_too(make_portal):
    portal = make_portal(verifier_checks_per_minute=2)
    answers = [
        post(portal, "verifier", "/verifier", grant="0", person_id=ZHANG_JIAN) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "2 questions a minute" in answers[-1].text


def test_the_resident_sees_who_checked_them_and_why(portal: Portal):
    post(portal, "verifier", "/verifier", grant="0", person_id=ZHANG_JIAN)
    log = text_of(portal.client("resident").get("/me/access-log").text)
    assert BANK in log and "promotion" in log and "eligibility check" in log
    assert "asked: civil-service-promotion" in log


def test_notices_and_consents_of_the_resident(portal: Portal):
    notices = text_of(portal.client("resident").get("/me/notices").text)
    assert "New entry TRAFFIC-RED-LIGHT from traffic-police" in notices
    granted = post(
        portal, "resident", "/me/consents/grant", organisation="Weihai Bank", purpose="loan"
    )
    assert granted.headers["location"] == "/me/consents?done=consent-granted"
    again = post(
        portal, "resident", "/me/consents/grant", organisation="Weihai  Bank", purpose="loan"
    )
    assert again.headers["location"] == "/me/consents?done=consent-unchanged"
    revoked = post(
        portal, "resident", "/me/consents/revoke", organisation="Weihai Bank", purpose="loan"
    )
    page = text_of(portal.client("resident").get(revoked.headers["location"]).text)
    assert "Consent revoked." in page and "Weihai Bank loan revoked" in page
    never = post(portal, "resident", "/me/consents/revoke", organisation="Nobody", purpose="x")
    assert never.status_code == 404 and "nothing to revoke" in never.text
    empty = post(portal, "resident", "/me/consents/grant", organisation=" ", purpose="loan")
    assert empty.status_code == 400


def test_a_contest_from_the_resident_to_the_review_officer(portal: Portal):
    opened = post(portal, "resident", "/me/contests",
                  files={"attachment": ("ticket.txt", b"I was in Beijing", "text/plain")},
                  entry="traffic-police/TP-1", grounds="I was in Beijing that day")  # fmt: skip
    assert opened.headers["location"] == "/me?done=contest-opened"
    record = text_of(portal.client("resident").get("/me?done=contest-opened").text)
    assert "The contest is open" in record and "contested" in record
    assert "contest awaiting the agency" in record
    queue = text_of(portal.client("agency").get("/agency/contests").text)
    assert "I was in Beijing that day" in queue and ZHANG_JIAN in queue
    wrong = post(portal, "agency", "/agency/contests/answer", event_id="TP-1", answer="corrected")
    assert wrong.status_code == 422 and "names the correcting event" in wrong.text
    post(portal, "agency", "/agency/contests/answer", event_id="TP-1", answer="verified",
         reason="camera 7 shows the car")  # fmt: skip
    review = text_of(portal.client("clerk").get("/clerk/contests").text)
    assert "Awaiting your decision (1)" in review and "camera 7 shows the car" in review
    no_reason = post(portal, "clerk", "/clerk/contests/decide", agency="traffic-police",
                     event_id="TP-1", decision="overturned", reason=" ")  # fmt: skip
    assert no_reason.status_code == 422
    decided = post(portal, "clerk", "/clerk/contests/decide", agency="traffic-police",
                   event_id="TP-1", decision="overturned", reason="the plate was misread")  # fmt: skip
    assert decided.headers["location"] == "/clerk/contests?done=decided"
    record = text_of(portal.client("resident").get("/me").text)
    assert "overturned" in record and "the plate was misread" in record and "1000" in record


def test_attachments_over_the_limit_are_refused_by_name(make_portal):
    portal = make_portal(max_attachment_bytes=10)
    refused = post(portal, "resident", "/me/contests",
                   files={"attachment": ("big.pdf", b"x" * 11, "application/pdf")},
                   entry="traffic-police/TP-1", grounds="wrong")  # fmt: skip
    assert refused.status_code in (413, 422) and "big.pdf" in refused.text
    none_chosen = post(portal, "resident", "/me/contests", grounds="wrong")
    assert none_chosen.status_code == 400 and "Choose the entry" in none_chosen.text
