"""The portal in real headless Chromium, against ``socialcredit serve`` on the demo town.

The stories of issue 3: a clerk finds Zhang Jian and prints his statement; a verifier asks
whether he may be promoted; he sees that they asked and why; an agency's upload shows up in
a statement; a resident contests an entry, the agency answers and the review officer decides;
and every page reads in Chinese. Each test logs in through the login form in a fresh browser
context, as people do.
"""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from tests.conftest import shows_word
from tests.e2e.conftest import FORESTRY, PROMOTION, Town

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def log_in(page: Any, town: Town, account: str) -> None:
    page.goto("/login")
    page.get_by_label("Account name").fill(town.accounts[account].name)
    page.get_by_label("Token").fill(town.accounts[account].token)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.inner_text("main")


def entry_row(page: Any, event: str) -> Any:
    return page.locator(f'tr[data-event="{event}"]')


def test_a_clerk_finds_zhang_jian_and_downloads_his_statement(town: Town, new_page: Any):
    page = new_page()
    log_in(page, town, "clerk")
    page.get_by_label("Resident ID").fill(town.zhang_jian)
    page.get_by_role("button", name="Open the record").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Record: 张建"
    assert page.get_by_test_id("score").inner_text() == "1015"
    assert page.get_by_test_id("grade").inner_text() == "A+"
    rules = page.locator("tbody tr td:nth-child(2) strong").all_inner_texts()
    assert sorted(rules) == ["TRAFFIC-RED-LIGHT", "WORK-MERIT-ANNUAL"]
    assert "Score = base 1000 + counted entries 15 = 1015." in page.inner_text("main")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed PDF statement").click()
    path = Path(download.value.path())
    content = path.read_bytes()
    assert content.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "1015" in text and town.zhang_jian in text


def ask_about_promotion(new_page: Any, town: Town) -> str:
    page = new_page()
    log_in(page, town, "verifier")
    page.get_by_label("Question and purpose").select_option(index=0)
    page.get_by_label("Resident ID").fill(town.zhang_jian)
    page.get_by_role("button", name="Ask").click()
    answer: str = page.get_by_test_id("answer").inner_text()
    main = page.inner_text("main")
    assert (
        not shows_word(main, "1015") and "TRAFFIC-RED-LIGHT" not in main
    )  # an answer, not a record
    return answer


def test_a_verifier_asks_about_promotion_and_gets_eligible(town: Town, new_page: Any):
    assert ask_about_promotion(new_page, town) == "eligible"


def test_zhang_jian_sees_who_checked_him_and_why(town: Town, new_page: Any):
    ask_about_promotion(new_page, town)
    page = new_page()
    log_in(page, town, "zhang-jian")
    page.get_by_role("navigation").get_by_role("link", name="Who checked me").click()
    rows = page.locator("tbody tr").all_inner_texts()
    checks = [row for row in rows if "eligibility check" in row]
    assert checks, rows
    assert FORESTRY in checks[0] and PROMOTION in checks[0]
    assert "civil-service-promotion" in checks[0] and town.accounts["verifier"].name in checks[0]


def test_an_agency_upload_shows_up_in_the_statement(town: Town, new_page: Any, tmp_path: Path):
    events = tmp_path / "traffic-2026-11-26.csv"
    events.write_text(
        "agency,event_id,person_id,rule,occurred_on,evidence\n"
        f"traffic-police,E2E-UP-1,{town.upload_person},TRAFFIC-RED-LIGHT,2026-11-26,camera 31\n"
        "traffic-police,E2E-UP-2,12345,TRAFFIC-RED-LIGHT,2026-11-26,\n",
        encoding="utf-8",
    )
    page = new_page()
    log_in(page, town, "traffic-desk")
    page.get_by_role("navigation").get_by_role("link", name="Upload events").click()
    page.get_by_label("Events file").set_input_files(str(events))
    page.get_by_role("button", name="Upload and import").click()
    counts = {
        key: page.get_by_test_id(key).inner_text() for key in ("submitted", "accepted", "rejected")
    }
    assert counts == {"submitted": "2", "accepted": "1", "rejected": "1"}
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejects file (CSV)").click()
    rejects = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert rejects[0].startswith("row,reason,message") and "invalid-person-id" in rejects[1]
    clerk = new_page()
    log_in(clerk, town, "clerk")
    clerk.get_by_label("Resident ID").fill(town.upload_person)
    clerk.get_by_role("button", name="Open the record").click()
    row = entry_row(clerk, "traffic-police/E2E-UP-1")
    assert "TRAFFIC-RED-LIGHT" in row.inner_text() and "camera 31" in row.inner_text()


def test_a_contest_goes_from_the_resident_to_the_agency_and_back(town: Town, new_page: Any):
    resident = new_page()
    log_in(resident, town, "contester")
    resident.get_by_label("Entry", exact=True).select_option("traffic-police/E2E-CONTEST-1")
    resident.get_by_label("Grounds").fill("My car was in the garage that day; see the invoice.")
    resident.get_by_label("Attachments (optional)").set_input_files(
        {"name": "invoice.txt", "mimeType": "text/plain", "buffer": b"garage invoice 2026-11-01"}
    )
    resident.get_by_role("button", name="Open the contest").click()
    assert "The contest is open" in resident.inner_text("main")
    assert "contested" in entry_row(resident, "traffic-police/E2E-CONTEST-1").inner_text()

    agency = new_page()
    log_in(agency, town, "traffic-desk")  # lands on its contest queue
    item = agency.locator('section[data-event="traffic-police/E2E-CONTEST-1"]')
    assert "My car was in the garage that day" in item.inner_text()
    assert "2026-12-27" in item.inner_text()  # the answer is due in 30 days
    item.get_by_label("verified").check()
    item.get_by_label("Reason (shown to the person)").fill("Camera 12 shows the plate clearly.")
    item.get_by_role("button", name="Send the answer").click()
    assert "Your answer is recorded" in agency.inner_text("main")

    clerk = new_page()
    log_in(clerk, town, "clerk")
    clerk.get_by_role("navigation").get_by_role("link", name="Review queue").click()
    waiting = clerk.locator('section[data-event="traffic-police/E2E-CONTEST-1"]')
    assert "Camera 12 shows the plate clearly." in waiting.inner_text()
    waiting.get_by_label("overturned").check()
    waiting.get_by_label("Reasons").fill("The garage invoice shows the car off the road.")
    waiting.get_by_role("button", name="Record the decision").click()
    assert "The decision is recorded" in clerk.inner_text("main")

    resident.reload()
    row = entry_row(resident, "traffic-police/E2E-CONTEST-1").inner_text()
    assert "overturned" in row and "The garage invoice shows the car off the road." in row


def test_the_pages_speak_chinese(town: Town, new_page: Any):
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "荣成市信用积分登记系统"
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("账户名").fill(town.accounts["clerk"].name)
    page.get_by_label("令牌").fill(town.accounts["clerk"].token)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.get_by_label("身份证号").fill(town.zhang_jian)
    page.get_by_role("button", name="查看记录").click()
    main = page.inner_text("main")
    for label in ("姓名", "积分", "等级", "记录明细", "闯红灯", "荣成市公安局交通警察大队"):
        assert label in main, label
    name = page.locator("dl.facts dd span[lang=zh-Hans]").first
    assert name.inner_text() == "张建"
    assert rendered_with(page, name) == ["Noto Sans CJK SC"]
    # Back to English, remembered across pages.
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert re.search(r"\bScore\b", page.inner_text("main"))


def rendered_with(page: Any, element: Any) -> list[str]:
    """The font families Chromium actually drew an element's text with (DevTools' CSS)."""
    element.evaluate("node => node.setAttribute('data-font-probe', '1')")
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": "[data-font-probe]"})
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    return sorted({font["familyName"] for font in fonts})


def test_the_pages_fit_a_phone(town: Town, new_page: Any):
    """On a 360 px wide phone nothing runs off the side: wide tables scroll in their box."""
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    log_in(page, town, "clerk")
    for path in (f"/clerk/people/{town.zhang_jian}", "/clerk/contests", "/catalogue", "/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    assert page.get_by_role("heading", level=1).is_visible()
