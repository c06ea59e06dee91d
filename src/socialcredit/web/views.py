"""What the templates show, built from what the services return, in the reader's language.

Nothing here reads the database: each function takes the services' answers (a statement, the
contests, a catalogue version, access rows) and arranges them for a page.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialcredit.domain.catalogue import Catalogue, Rule
from socialcredit.domain.durations import Duration
from socialcredit.services.access import AccessRecord
from socialcredit.services.contests import ContestView
from socialcredit.services.models import Statement, StatementEntry
from socialcredit.services.registry import Registry
from socialcredit.web.i18n import Translator

__all__ = [
    "AccessRow",
    "EntryRow",
    "StatementView",
    "access_rows",
    "catalogue_view",
    "contestable_entries",
    "duration_text",
    "entry_key",
    "parse_entry_key",
    "statement_view",
]

ZH = "zh-Hans"


@dataclass(frozen=True, slots=True)
class EntryRow:
    entry: StatementEntry
    title: str
    title_lang: str
    agency_name: str
    agency_lang: str
    points: str
    contest: ContestView | None


@dataclass(frozen=True, slots=True)
class StatementView:
    statement: Statement
    rows: tuple[EntryRow, ...]
    counted: int


def _in_language(english: str, chinese: str | None, language: str) -> tuple[str, str]:
    """The text in the reader's language when the catalogue has it, with its lang tag."""
    if language == "zh" and chinese:
        return chinese, ZH
    return english, "en"


def entry_key(agency: str, event_id: str) -> str:
    """An entry as one form value: agency codes are ``[a-z0-9-]+``, so the first ``/`` splits."""
    return f"{agency}/{event_id}"


def parse_entry_key(value: str) -> tuple[str, str] | None:
    agency, slash, event_id = value.partition("/")
    return (agency, event_id) if slash and agency and event_id else None


def statement_view(
    registry: Registry,
    statement: Statement,
    contests: Iterable[ContestView],
    language: str,
) -> StatementView:
    by_entry = {(c.agency, c.event_id): c for c in contests}
    rows = []
    for entry in statement.entries:
        agency = registry.version(entry.catalogue_version).agencies.get(entry.agency)
        title, title_lang = _in_language(entry.title, entry.title_zh, language)
        name, name_lang = _in_language(
            entry.agency_name, None if agency is None else agency.name_zh, language
        )
        rows.append(
            EntryRow(
                entry=entry,
                title=title,
                title_lang=title_lang,
                agency_name=name,
                agency_lang=name_lang,
                points=f"{entry.points:+d}",
                contest=by_entry.get((entry.agency, entry.event_id)),
            )
        )
    counted = statement.points_counted
    return StatementView(statement, tuple(rows), counted)


def contestable_entries(view: StatementView) -> list[tuple[str, str]]:
    """(form value, label) of the entries that can be contested now: the active ones."""
    return [
        (
            entry_key(row.entry.agency, row.entry.event_id),
            f"{row.entry.occurred_on} · {row.entry.rule} · {row.title} · {row.points} "
            f"({row.entry.agency}/{row.entry.event_id})",
        )
        for row in view.rows
        if row.entry.status == "active"
    ]


def duration_text(duration: Duration | None, t: Translator) -> str:
    """``P1Y6M`` as "1 year 6 months" / "1年6个月"."""
    if duration is None:
        return ""
    years, months = divmod(duration.months, 12)
    parts = [
        t(key, n=n)
        for key, n in (
            ("duration.years", years),
            ("duration.months", months),
            ("duration.days", duration.days),
        )
        if n
    ]
    return t("duration.join").join(parts)


def _requires_text(min_grade: str | None, not_blacklisted: bool, t: Translator) -> str:
    parts = []
    if min_grade:
        parts.append(t("catalogue.requires.min_grade", grade=min_grade))
    if not_blacklisted:
        parts.append(t("catalogue.requires.not_blacklisted"))
    return t("duration.join").join(parts) or t("catalogue.requires.nothing")


def _rule_row(rule: Rule, extra: Mapping[str, Any], t: Translator) -> dict[str, Any]:
    language = t.language
    title, title_lang = _in_language(rule.title, rule.title_zh, language)
    basis_zh = extra.get("legal_basis_zh")
    basis_zh = basis_zh if isinstance(basis_zh, str) and basis_zh.strip() else None
    basis, basis_lang = _in_language(rule.legal_basis, basis_zh, language)
    other, other_lang = (rule.legal_basis, "en") if basis_lang == ZH else (basis_zh, ZH)
    return {
        "code": rule.code,
        "category": rule.category,
        "title": title,
        "title_lang": title_lang,
        "points": f"{rule.points:+d}" if rule.points else "0",
        "counts_for": duration_text(rule.counts_for, t),
        "grade_cap": rule.grade_cap,
        "blacklist_for": duration_text(rule.blacklist_for, t),
        "cap": rule.max_points_per_year,
        "repair_rule": rule.repair_rule,
        "applies_to": rule.applies_to,
        "reporters": rule.reporters,
        "legal_basis": basis,
        "basis_lang": basis_lang,
        "other_basis": other,
        "other_basis_lang": other_lang,
    }


def catalogue_view(catalogue: Catalogue, t: Translator) -> dict[str, Any]:
    """The rules, agencies and policies of one version, labelled in the reader's language.

    The Chinese legal basis is not part of the rule model; the catalogue's own document holds
    it (``legal_basis_zh``), so it is read from there.
    """
    documents = {
        str(item.get("code")): item
        for item in catalogue.document.get("rules") or ()
        if isinstance(item, Mapping)
    }
    language = t.language
    agencies = []
    for agency in catalogue.agencies.values():
        name, name_lang = _in_language(agency.name, agency.name_zh, language)
        agencies.append({"code": agency.code, "name": name, "name_lang": name_lang})
    policies = []
    for policy in catalogue.policies.values():
        title, title_lang = _in_language(policy.title, policy.title_zh, language)
        requires = _requires_text(policy.min_grade, policy.not_blacklisted, t)
        policies.append(
            {
                "code": policy.code,
                "title": title,
                "title_lang": title_lang,
                "requires": requires,
                "mandated": policy.mandated,
            }
        )
    rules = [_rule_row(rule, documents.get(code, {}), t) for code, rule in catalogue.rules.items()]
    return {"c": catalogue, "agencies": agencies, "policies": policies, "rules": rules}


@dataclass(frozen=True, slots=True)
class AccessRow:
    person_id: str
    actor: str
    role: str
    organisation: str | None
    action: str
    purpose: str
    recorded_at: datetime
    detail_text: str


def _detail_text(detail: Mapping[str, Any] | None, t: Translator) -> str:
    """The parts of an access row's detail a reader cares about: the question and answer."""
    if not detail:
        return ""
    parts = []
    if detail.get("policy"):
        parts.append(t("access.detail.policy", policy=detail["policy"]))
    if "eligible" in detail:
        answer = "verifier.eligible" if detail["eligible"] else "verifier.not_eligible"
        parts.append(t(answer))
    if detail.get("refused"):
        parts.append(t("access.detail.refused", code=detail["refused"]))
    if isinstance(detail.get("as_of"), str):
        parts.append(t("access.detail.as_of", day=detail["as_of"]))
    if isinstance(detail.get("known_at"), str):
        parts.append(t("access.detail.known_at", moment=detail["known_at"]))
    return "; ".join(parts)


def access_rows(rows: Sequence[tuple[int, AccessRecord]], t: Translator) -> list[AccessRow]:
    return [
        AccessRow(
            record.person_id,
            record.actor,
            record.role,
            record.organisation,
            record.action,
            record.purpose,
            record.recorded_at,
            _detail_text(record.detail, t),
        )
        for _id, record in rows
    ]
