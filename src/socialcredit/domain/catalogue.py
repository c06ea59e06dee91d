"""The versioned rules catalogue: model, validation and the rules for loading a new version.

A catalogue is parsed from a plain mapping (the YAML document, already read by an adapter) into
frozen dataclasses. Validation collects every problem it finds, each as one line naming the
place (``rules[3] (TRAFFIC-RED-LIGHT): points: must be an integer``), so that an author fixes a
catalogue in one round. See ``docs/catalogue.md`` for the format.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from hashlib import sha256
from typing import Any

from socialcredit.domain.catalogue_checks import (
    Problems,
    duration_field,
    integer_field,
    list_of_mappings,
    text_field,
    unknown_keys,
)
from socialcredit.domain.durations import Duration
from socialcredit.domain.errors import CatalogueInvalidError
from socialcredit.domain.protected import protected_ground_matches

__all__ = [
    "APPLIES_TO",
    "Agency",
    "Band",
    "Catalogue",
    "Policy",
    "Rule",
    "check_successor",
    "parse_catalogue",
]

APPLIES_TO = ("everyone", "public-servants")
AGENCY_CODE = re.compile(r"[a-z0-9-]+", re.ASCII)
RULE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
POLICY_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TOP_KEYS = frozenset(
    {"version", "effective_from", "base_score", "grades", "agencies", "rules", "policies", "title"}
)
_RULE_KEYS = frozenset(
    {
        "code",
        "title",
        "category",
        "points",
        "counts_for",
        "grade_cap",
        "blacklist_for",
        "reporters",
        "legal_basis",
        "applies_to",
        "repair_rule",
        "max_points_per_year",
    }
)


@dataclass(frozen=True, slots=True)
class Band:
    """A grade band: ``grade`` with an inclusive lower bound (``None`` = the unbounded last)."""

    grade: str
    min_points: int | None


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    name_zh: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    title: str
    category: str
    points: int
    counts_for: Duration
    reporters: tuple[str, ...]
    legal_basis: str
    applies_to: str = "everyone"
    grade_cap: str | None = None
    blacklist_for: Duration | None = None
    title_zh: str | None = None
    description: str | None = None
    # The rule an agency reports when the conduct is repaired (a debtor pays): the original
    # entry then ends on the repair's date and the repair entry counts from it.
    repair_rule: str | None = None
    # The most points (in absolute value) this rule gives one person in a calendar year;
    # events beyond it are accepted and shown and add nothing.
    max_points_per_year: int | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    code: str
    title: str
    min_grade: str | None = None
    not_blacklisted: bool = False
    title_zh: str | None = None
    # A mandated policy may be checked without the person's consent (e.g. the employing
    # bureau asking civil-service-promotion); every other check needs recorded consent.
    mandated: bool = False


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One catalogue version. ``document`` is the canonical mapping it was parsed from."""

    version: str
    effective_from: date
    base_score: int
    bands: tuple[Band, ...]
    agencies: Mapping[str, Agency]
    rules: Mapping[str, Rule]
    policies: Mapping[str, Policy]
    document: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def grades(self) -> tuple[str, ...]:
        """Grade names, best first."""
        return tuple(band.grade for band in self.bands)

    def grade_position(self, grade: str) -> int:
        """0 for the best grade; a larger number is a worse grade."""
        return self.grades.index(grade)

    def grade_for_points(self, points: int) -> str:
        """The first band whose lower bound is at or below ``points``."""
        for band in self.bands:
            if band.min_points is None or points >= band.min_points:
                return band.grade
        raise AssertionError("the last band is unbounded")  # parse_catalogue guarantees it

    def canonical_json(self) -> str:
        return canonical_json(self.document)

    def digest(self) -> str:
        return sha256(self.canonical_json().encode()).hexdigest()


def canonical_json(document: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, ISO dates: equal documents give equal text."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _parse_bands(problems: Problems, value: object) -> tuple[Band, ...]:
    items = list_of_mappings(problems, "grades", value)
    if not items and isinstance(value, list):
        problems.add("grades", "needs at least one grade")
    bands: list[Band] = []
    for index, item in enumerate(items):
        where = f"grades[{index}]"
        unknown_keys(problems, where, item, frozenset({"grade", "min"}))
        name = text_field(problems, f"{where}: grade", item.get("grade"))
        last = index == len(items) - 1
        lower: int | None = None
        if last:
            if item.get("min") is not None:
                problems.add(where, "the last grade is the unbounded one and must have no min")
        elif "min" not in item or item.get("min") is None:
            problems.add(where, "only the last grade may have no min")
        else:
            lower = integer_field(problems, f"{where}: min", item["min"])
        if name is not None:
            bands.append(Band(name, lower))
    names = [band.grade for band in bands]
    for name in {n for n in names if names.count(n) > 1}:
        problems.add("grades", f"grade {name!r} is listed more than once")
    bounds = [band.min_points for band in bands if band.min_points is not None]
    if any(upper <= lower for upper, lower in zip(bounds, bounds[1:], strict=False)):
        problems.add("grades", "must be ordered best to worst with strictly decreasing min")
    return tuple(bands)


def _parse_agencies(problems: Problems, value: object) -> dict[str, Agency]:
    agencies: dict[str, Agency] = {}
    for index, item in enumerate(list_of_mappings(problems, "agencies", value)):
        code = item.get("code")
        where = f"agencies[{index}]" + (f" ({code})" if isinstance(code, str) else "")
        unknown_keys(problems, where, item, frozenset({"code", "name"}))
        if not isinstance(code, str) or not AGENCY_CODE.fullmatch(code):
            problems.add(where, f"code must be lowercase letters, digits and '-', got {code!r}")
            continue
        if code in agencies:
            problems.add(where, f"agency code {code!r} is listed more than once")
        name = text_field(problems, f"{where}: name", item.get("name"))
        name_zh = text_field(problems, f"{where}: name_zh", item.get("name_zh"), required=False)
        agencies[code] = Agency(code, name or code, name_zh)
    return agencies


def _rule_texts(rule: Rule) -> list[tuple[str, str]]:
    fields = [("category", rule.category), ("title", rule.title), ("legal_basis", rule.legal_basis)]
    fields += [("title_zh", rule.title_zh or ""), ("description", rule.description or "")]
    return fields


def _check_protected(problems: Problems, where: str, rule: Rule, extra: Sequence[str]) -> None:
    for field_name, text in [*_rule_texts(rule), *(("legal_basis_zh", t) for t in extra)]:
        for ground, term in protected_ground_matches(text):
            problems.add(
                where,
                f"{field_name}: refers to a protected ground ({ground.label}): "
                f"{term!r}; rules must be about a person's own conduct",
            )


def _parse_rule(
    problems: Problems,
    where: str,
    item: Mapping[str, Any],
    grades: Sequence[str],
    agencies: Mapping[str, Agency],
) -> Rule | None:
    unknown_keys(problems, where, item, _RULE_KEYS)
    title = text_field(problems, f"{where}: title", item.get("title"))
    category = text_field(problems, f"{where}: category", item.get("category"))
    points = integer_field(problems, f"{where}: points", item.get("points"))
    counts_for = duration_field(problems, f"{where}: counts_for", item.get("counts_for"))
    legal_basis = text_field(problems, f"{where}: legal_basis", item.get("legal_basis"))
    applies_to = item.get("applies_to", "everyone")
    if applies_to not in APPLIES_TO:
        problems.add(
            f"{where}: applies_to", f"must be one of {', '.join(APPLIES_TO)}, got {applies_to!r}"
        )
    grade_cap = item.get("grade_cap")
    if grade_cap is not None and grade_cap not in grades:
        problems.add(f"{where}: grade_cap", f"{grade_cap!r} is not a grade of this catalogue")
    blacklist_for = None
    if item.get("blacklist_for") is not None:
        blacklist_for = duration_field(problems, f"{where}: blacklist_for", item["blacklist_for"])
    reporters = item.get("reporters")
    if not isinstance(reporters, list) or not reporters:
        problems.add(f"{where}: reporters", "must be a non-empty list of agency codes")
        reporters = []
    for reporter in reporters:
        if not isinstance(reporter, str):
            problems.add(f"{where}: reporters", f"{reporter!r} is not an agency code")
        elif reporter not in agencies:
            problems.add(f"{where}: reporters", f"{reporter!r} is not an agency of this version")
    if len(set(map(str, reporters))) != len(reporters):
        problems.add(f"{where}: reporters", "lists an agency more than once")
    title_zh = text_field(problems, f"{where}: title_zh", item.get("title_zh"), required=False)
    description = text_field(
        problems, f"{where}: description", item.get("description"), required=False
    )
    repair_rule, yearly_cap = _repair_and_cap(problems, where, item)
    if None in (title, category, points, counts_for, legal_basis) or applies_to not in APPLIES_TO:
        return None
    rule = Rule(
        code=str(item["code"]),
        title=title or "",
        category=category or "",
        points=points or 0,
        counts_for=counts_for,  # type: ignore[arg-type]  # checked non-None above
        reporters=tuple(map(str, reporters)),
        legal_basis=legal_basis or "",
        applies_to=str(applies_to),
        grade_cap=grade_cap,
        blacklist_for=blacklist_for,
        title_zh=title_zh,
        description=description,
        repair_rule=repair_rule,
        max_points_per_year=yearly_cap,
    )
    extra = [item["legal_basis_zh"]] if isinstance(item.get("legal_basis_zh"), str) else []
    _check_protected(problems, where, rule, extra)
    return rule


def _repair_and_cap(
    problems: Problems, where: str, item: Mapping[str, Any]
) -> tuple[str | None, int | None]:
    repair_rule = item.get("repair_rule")
    if repair_rule is not None and (
        not isinstance(repair_rule, str) or not RULE_CODE.fullmatch(repair_rule)
    ):
        problems.add(f"{where}: repair_rule", f"must be a rule code, got {repair_rule!r}")
        repair_rule = None
    if repair_rule is not None and repair_rule == item.get("code"):
        problems.add(f"{where}: repair_rule", "a rule cannot repair itself")
        repair_rule = None
    cap = item.get("max_points_per_year")
    if cap is not None:
        cap = integer_field(problems, f"{where}: max_points_per_year", cap)
        if cap is not None and cap <= 0:
            problems.add(f"{where}: max_points_per_year", f"must be positive, got {cap}")
            cap = None
    return repair_rule, cap


def _check_repair_rules(problems: Problems, rules: Mapping[str, Rule]) -> None:
    """Every named repair rule exists in the same version."""
    for index, rule in enumerate(rules.values()):
        if rule.repair_rule is not None and rule.repair_rule not in rules:
            problems.add(
                f"rules[{index}] ({rule.code}): repair_rule",
                f"{rule.repair_rule!r} is not a rule of this version",
            )


def _parse_rules(
    problems: Problems, value: object, grades: Sequence[str], agencies: Mapping[str, Agency]
) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for index, item in enumerate(list_of_mappings(problems, "rules", value)):
        code = item.get("code")
        where = f"rules[{index}]" + (f" ({code})" if isinstance(code, str) else "")
        if not isinstance(code, str) or not RULE_CODE.fullmatch(code):
            problems.add(where, f"code must be letters, digits, '.', '_' or '-', got {code!r}")
            continue
        if code in rules:
            problems.add(where, f"rule code {code!r} is listed more than once")
        rule = _parse_rule(problems, where, item, grades, agencies)
        if rule is not None:
            rules[code] = rule
    _check_repair_rules(problems, rules)
    return rules


def _parse_policy(
    problems: Problems, where: str, item: Mapping[str, Any], grades: Sequence[str]
) -> Policy | None:
    unknown_keys(problems, where, item, frozenset({"code", "title", "requires", "mandated"}))
    title = text_field(problems, f"{where}: title", item.get("title"))
    requires = item.get("requires") or {}  # requires: null means no requirements, as absent
    if not isinstance(requires, Mapping):
        problems.add(f"{where}: requires", "must be a mapping")
        return None
    for key in requires:
        if key not in ("min_grade", "not_blacklisted"):
            problems.add(f"{where}: requires", f"unknown requirement {key!r}")
    min_grade = requires.get("min_grade")
    if min_grade is not None and min_grade not in grades:
        problems.add(f"{where}: requires: min_grade", f"{min_grade!r} is not a grade")
    not_blacklisted = requires.get("not_blacklisted", False)
    if not isinstance(not_blacklisted, bool):
        problems.add(f"{where}: requires: not_blacklisted", "must be true or false")
    title_zh = text_field(problems, f"{where}: title_zh", item.get("title_zh"), required=False)
    mandated = item.get("mandated", False)
    if not isinstance(mandated, bool):
        problems.add(f"{where}: mandated", "must be true or false")
    if title is None:
        return None
    return Policy(
        str(item["code"]), title, min_grade, not_blacklisted is True, title_zh, mandated is True
    )


def _parse_policies(problems: Problems, value: object, grades: Sequence[str]) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for index, item in enumerate(list_of_mappings(problems, "policies", value)):
        code = item.get("code")
        where = f"policies[{index}]" + (f" ({code})" if isinstance(code, str) else "")
        if not isinstance(code, str) or not POLICY_CODE.fullmatch(code):
            problems.add(where, f"code must be letters, digits, '.', '_' or '-', got {code!r}")
            continue
        if code in policies:
            problems.add(where, f"policy code {code!r} is listed more than once")
        policy = _parse_policy(problems, where, item, grades)
        if policy is not None:
            policies[code] = policy
    return policies


def _parse_header(problems: Problems, document: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    unknown_keys(problems, "catalogue", document, _TOP_KEYS)
    for key in ("version", "effective_from", "base_score", "grades", "agencies", "rules"):
        if key not in document:
            problems.add(key, "is required")
    version = document.get("version")
    if "version" in document and not isinstance(version, str):
        problems.add(
            "version",
            f'must be a string (quote it: version: "{version}"), '
            f"got {type(version).__name__} {version!r}",
        )
    elif isinstance(version, str) and not version.strip():
        problems.add("version", "must be non-empty")
    effective_from = document.get("effective_from")
    if isinstance(effective_from, str):
        try:
            # fromisoformat alone also takes 20260101 and 2026-W01-4; the format is YYYY-MM-DD.
            if not _ISO_DATE.fullmatch(effective_from):
                raise ValueError(effective_from)
            effective_from = date.fromisoformat(effective_from)
        except ValueError:
            problems.add("effective_from", f"must be a date YYYY-MM-DD, got {effective_from!r}")
    elif "effective_from" in document and type(effective_from) is not date:
        problems.add("effective_from", f"must be a date YYYY-MM-DD, got {effective_from!r}")
    base_score = None
    if "base_score" in document:
        base_score = integer_field(problems, "base_score", document["base_score"])
    return version, effective_from, base_score


def parse_catalogue(document: object, *, source: str = "catalogue") -> Catalogue:
    """Validate ``document`` and build a ``Catalogue``; raises ``CatalogueInvalidError``."""
    if not isinstance(document, Mapping):
        raise CatalogueInvalidError(["the document must be a mapping of keys"], source=source)
    problems = Problems()
    version, effective_from, base_score = _parse_header(problems, document)
    bands = _parse_bands(problems, document.get("grades"))
    grades = [band.grade for band in bands]
    agencies = _parse_agencies(problems, document.get("agencies"))
    rules = _parse_rules(problems, document.get("rules"), grades, agencies)
    policies = _parse_policies(problems, document.get("policies", []), grades)
    if problems.lines:
        raise CatalogueInvalidError(problems.lines, source=source)
    try:
        canonical = json.loads(canonical_json(document))
    except (TypeError, ValueError) as error:  # e.g. binary data, a set, mixed key types
        raise CatalogueInvalidError(
            [
                f"catalogue: holds a value that is not plain text, numbers, dates, lists and "
                f"mappings ({error})"
            ],
            source=source,
        ) from None
    return Catalogue(
        version, effective_from, base_score, bands, agencies, rules, policies, canonical
    )


def check_successor(loaded: Sequence[Catalogue], new: Catalogue) -> list[str]:
    """Problems with loading ``new`` after ``loaded`` (sorted by ``effective_from``).

    The caller first skips a version identical to a loaded one (same version and digest):
    loading it again changes nothing. Anything else with a loaded version string is refused.
    """
    problems: list[str] = []
    if not loaded:
        return problems
    latest = max(loaded, key=lambda catalogue: catalogue.effective_from)
    for catalogue in loaded:
        if catalogue.version == new.version:
            problems.append(
                f"version {new.version!r} is already loaded with different content; "
                "give the new text a new version"
            )
    if new.effective_from <= latest.effective_from:
        problems.append(
            f"effective_from {new.effective_from.isoformat()} is not after "
            f"{latest.effective_from.isoformat()} of loaded version "
            f"{latest.version!r}; versions load in increasing effective_from"
        )
    if new.grades != latest.grades:
        problems.append(
            f"grades {', '.join(new.grades)} differ from the loaded "
            f"{', '.join(latest.grades)}; names and order must stay the same "
            "(thresholds may change)"
        )
    return problems
