"""The docs stay honest: generated sections match the code, and every name the code knows is
documented (settings, reason codes, protected-ground vocabulary)."""

import re
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from socialcredit.domain.reasons import EVENT_REASONS, PEOPLE_REASONS
from socialcredit.settings import SETTING_HELP, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _vocabulary_markdown() -> str:
    sys.path.insert(0, str(DOCS))
    try:
        from vocabulary import vocabulary_markdown  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(DOCS))
    return vocabulary_markdown()


def test_catalogue_doc_holds_the_current_vocabulary():
    text = (DOCS / "catalogue.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- vocabulary:start -->\n(.*)<!-- vocabulary:end -->", text, re.S)
    assert match, "docs/catalogue.md lost its vocabulary markers"
    assert match.group(1).strip() == _vocabulary_markdown().strip(), (
        "regenerate: python docs/vocabulary.py and paste between the markers"
    )


@pytest.mark.parametrize("setting", [field.name for field in fields(Settings)])
def test_every_setting_is_documented_with_help(setting: str):
    assert SETTING_HELP.get(setting), f"{setting} has no help text"
    assert f"`{setting}`" in (DOCS / "settings.md").read_text(encoding="utf-8")


def test_no_help_for_settings_that_do_not_exist():
    assert set(SETTING_HELP) == {field.name for field in fields(Settings)}


@pytest.mark.parametrize("code", sorted(set(EVENT_REASONS) | set(PEOPLE_REASONS)))
def test_every_reason_code_is_documented(code: str):
    assert f"`{code}`" in (DOCS / "imports.md").read_text(encoding="utf-8")


def test_event_reason_order_in_the_docs_matches_the_code():
    text = (DOCS / "imports.md").read_text(encoding="utf-8")
    events = text.split("### Events", 1)[1].split("### People", 1)[0]
    documented = re.findall(r"^\| `([a-z-]+)` \|", events, re.M)
    assert tuple(documented) == EVENT_REASONS
