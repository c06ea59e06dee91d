"""The letter a notice becomes when it leaves the registry: Chinese and English, UTF-8.

A notice row (``services.notices``) holds a subject and a body already written in both
languages. Delivery wraps them in a letter: who it is from and to, the notice's number and
date, the facts of the entry or check it is about (rule with its title, agency with its
name, points, counting window, blacklist, grade cap, policy and reasons) with labels in both
languages, and how to contest. The same text goes into the file outbox and the e-mail.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from socialcredit.domain.catalogue import Catalogue
from socialcredit.services.notices import HOW_TO_CONTEST

__all__ = ["OFFICE", "OutgoingNotice", "facts", "render_letter", "render_subject"]

OFFICE = "荣成市社会信用管理办公室 · Rongcheng Social Credit Management Office"

# Detail keys shown as facts, in this order, with their labels (Chinese, English).
_LABELS: tuple[tuple[str, str, str], ...] = (
    ("rule", "规则", "Rule"),
    ("agency", "报送单位", "Reporting agency"),
    ("event_id", "事件编号", "Event"),
    ("points", "分值", "Points"),
    ("occurred_on", "发生日期", "Occurred on"),
    ("counts_until", "计分至（不含）", "Counts until (exclusive)"),
    ("blacklist_until", "列入名单至（不含）", "Blacklisted until (exclusive)"),
    ("grade_cap", "等级上限", "Grade no better than"),
    ("catalogue_version", "目录版本", "Catalogue version"),
    ("organisation", "查询机构", "Verifier"),
    ("verifier", "查询机构", "Verifier"),
    ("policy", "政策", "Policy"),
    ("purpose", "用途", "Purpose"),
)


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    """A notice with what delivery needs to know about its person."""

    id: int
    person_id: str
    name: str | None
    district: str | None
    email: str | None
    kind: str
    entry_id: int | None
    subject: str
    body: str
    detail: Mapping[str, Any] | None
    recorded_at: datetime


def _named(detail: Mapping[str, Any], key: str, catalogue: Catalogue | None) -> str:
    """A rule or agency code with its title or name from the entry's catalogue version."""
    value = str(detail[key])
    if catalogue is None:
        return value
    if key == "rule" and value in catalogue.rules:
        rule = catalogue.rules[value]
        titles = " / ".join(t for t in (rule.title_zh, rule.title) if t)
        return f"{value} ({titles})"
    if key == "agency" and value in catalogue.agencies:
        agency = catalogue.agencies[value]
        names = " / ".join(n for n in (agency.name_zh, agency.name) if n)
        return f"{value} ({names})"
    return value


def facts(detail: Mapping[str, Any] | None, catalogue: Catalogue | None) -> list[str]:
    """One line per known fact of the notice, labelled in both languages."""
    if not detail:
        return []
    lines = []
    for key, zh, en in _LABELS:
        if detail.get(key) not in (None, ""):
            value = _named(detail, key, catalogue)
            if key == "points":
                value = f"{int(detail[key]):+d}"
            lines.append(f"{zh} {en}: {value}")
    for reason in detail.get("reasons") or ():
        if isinstance(reason, Mapping):
            lines.append(
                f"未满足 Unmet: {reason.get('requirement')} — 要求 wanted {reason.get('wanted')}, "
                f"实际 actual {reason.get('actual')}"
            )
    return lines


def render_subject(notice: OutgoingNotice) -> str:
    return f"【社会信用通知 Social credit notice】{notice.subject}"


def render_letter(notice: OutgoingNotice, zone: ZoneInfo, catalogue: Catalogue | None) -> str:
    """The full text of the letter (plain text, UTF-8, lines under ~100 characters)."""
    recorded = notice.recorded_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    whom = f"{notice.name} ({notice.person_id})" if notice.name else notice.person_id
    parts = [
        OFFICE,
        f"通知编号 Notice no. {notice.id} · {recorded}",
        f"致 To: {whom}",
        "",
        notice.body.strip(),
    ]
    lines = facts(notice.detail, catalogue)
    if lines:
        parts += ["", *lines]
    if HOW_TO_CONTEST not in notice.body and notice.kind in ("entry", "adverse-action"):
        parts += ["", HOW_TO_CONTEST]
    parts += [
        "",
        "本通知由系统发出，请勿直接回复。 This notice was sent automatically; do not reply to it.",
    ]
    return "\n".join(parts) + "\n"
