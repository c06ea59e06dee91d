"""English and Simplified Chinese: every label in both, the language chosen as a reader
expects (switch, cookie, browser), and Chinese names shown with their language marked."""

import re
import string
from pathlib import Path

import pytest
from tests.web.conftest import Portal

from socialcredit.reports.fonts import has_cjk
from socialcredit.services.contests import ANSWERS, DECISIONS
from socialcredit.services.users import ROLES
from socialcredit.web.i18n import Translator, from_accept_language, known_language
from socialcredit.web.messages import MESSAGES
from socialcredit.web.pages.common import DONE
from socialcredit.web.pages.office import ACTIONS
from socialcredit.web.pages.published import FACTS

WEB = Path(__file__).parents[2] / "src" / "socialcredit" / "web"
# t("key"), translator(request)("key"), title="key": labels asked for by name.
USED = re.compile(r"""(?:\bt|\)|\btitle=)\(?\s*["']([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)["']""")
# Any quoted key in the pages' code (tables of (href, "nav.me") and the like).
LITERAL = re.compile(r"""["']([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)["']""")

# Keys built from a prefix and a value at run time, and every value they take.
DYNAMIC = {
    "role": ROLES,
    "status": ("active", "contested", "overturned", "withdrawn"),
    "why": ("counts", "expired", "ended", "overturned", "withdrawn"),
    "outcome": (*ANSWERS, *DECISIONS),
    "contest.state": ("awaiting-agency", "awaiting-decision", "closed"),
    "contest.step": ("answered", "decided", "expired"),
    "action": ACTIONS,
    "check.fact": FACTS,
    "requirement": ("min_grade", "not_blacklisted"),
    "notice.kind": ("entry", "adverse-action", "contest"),
    "review": ("awaiting_decision", "overdue", "waiting"),
    "done": tuple(DONE),
    "error": ("400", "403", "404", "405", "409", "413", "415", "422", "429", "500", "503", "other"),
}


def used_keys(pattern: re.Pattern[str] = USED) -> set[str]:
    keys: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        if path.name.startswith("messages"):
            continue
        keys.update(pattern.findall(path.read_text(encoding="utf-8")))
    keys.update(f"agency.answer.{answer}.hint" for answer in ANSWERS)
    keys.update(f"{prefix}.{value}" for prefix, values in DYNAMIC.items() for value in values)
    return keys


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_label_used_exists_in_both_languages():
    keys = used_keys()
    assert len(keys) > 300
    missing = sorted(keys - set(MESSAGES))
    assert not missing, missing
    unused = sorted(set(MESSAGES) - keys - used_keys(LITERAL))
    assert not unused, f"labels nothing uses: {unused}"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_each_label_has_both_texts_with_the_same_fields(key: str):
    english, chinese = MESSAGES[key]
    assert english.strip() and chinese.strip()
    assert fields(english) == fields(chinese)
    assert has_cjk(chinese), "the Chinese text is not Chinese"


def test_unknown_labels_fail_loudly():
    with pytest.raises(KeyError):
        Translator("en")("no.such.label")
    with pytest.raises(ValueError):
        Translator("fr")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4", "zh"),
        ("de, en;q=0", "en"),
        ("zh-Hans-CN", "zh"),
        ("zh;q=abc, en;q=0.1", "en"),
        ("x" * 5000, "en"),
    ],
)
def test_the_browsers_language(header: str | None, language: str):
    assert from_accept_language(header) == language


def test_known_language():
    assert known_language("ZH_cn") == "zh" and known_language("en-US") == "en"
    assert known_language("fr") is None and known_language(None) is None


def test_the_language_switch_and_its_memory(portal: Portal):
    client = portal.client("anonymous")
    chinese = client.get("/catalogue", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in chinese.text and "积分目录" in chinese.text
    english = client.get("/catalogue", headers={"accept-language": "zh-CN"}, params={"lang": "en"})
    assert '<html lang="en">' in english.text and "The catalogue" in english.text
    assert english.cookies.get("sc_lang") == "en"  # remembered over the browser's wish
    again = client.get("/", headers={"accept-language": "zh-CN"})
    assert '<html lang="en">' in again.text
    switch = client.get("/language", params={"to": "zh", "next": "/catalogue?version=2026.1"})
    assert switch.status_code == 303 and switch.headers["location"] == "/catalogue?version=2026.1"
    assert '<html lang="zh-Hans">' in client.get("/catalogue").text


def test_a_chinese_page_of_a_record(portal: Portal):
    client = portal.client("clerk")
    page = client.get("/clerk/people/371082198403051239", params={"lang": "zh"}).text
    for label in ("姓名", "积分", "等级", "记录明细", "闯红灯" if "闯红灯" in page else "发生日期"):
        assert label in page
    assert '<span lang="zh-Hans">张建</span>' in page  # the name is marked as Chinese
    assert 'href="/language?to=en' in page and ">English</a>" in page
