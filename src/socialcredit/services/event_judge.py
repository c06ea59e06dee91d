"""Judging a batch of submitted events, columnar: every row gets a reason code or none.

The order of the checks is DESIGN.md section 3's; the first that applies wins. Key checks
(duplicate, conflict) come last and need the store, so they live in ``classify_keys``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from socialcredit.domain.catalogue import Catalogue
from socialcredit.services.columnar import (
    Check,
    apply_checks,
    birth_date_expr,
    invalid_text,
    invalid_text_message,
    missing_fields,
    missing_fields_message,
    person_id_message,
    person_id_valid,
    stripped,
)

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_OPTIONAL",
    "EVENT_REQUIRED",
    "NOT_YOUR_AGENCY",
    "CatalogueFrames",
    "catalogue_frames",
    "classify_keys",
    "judge_events",
    "normalise_events",
]

EVENT_REQUIRED = ("agency", "event_id", "person_id", "rule", "occurred_on")
# Optional: evidence, and the event_id this event corrects or repairs (services.event_references).
EVENT_OPTIONAL = ("evidence", "corrects", "repairs")
EVENT_COLUMNS = (*EVENT_REQUIRED, *EVENT_OPTIONAL)
CONTENT = ("person_id", "rule", "occurred_on", "evidence")
# Rows submitted by an account bound to one agency (the HTTP API) that name another agency.
# Judged right after the text checks: a row the account may not send is not looked at further.
NOT_YOUR_AGENCY = "not-your-agency"


@dataclass(frozen=True, slots=True)
class CatalogueFrames:
    """The loaded catalogue versions as small frames to join against."""

    versions: tuple[str, ...]
    effective_froms: tuple[date, ...]
    agencies: pl.DataFrame  # version_index, agency
    rules: pl.DataFrame  # version_index, rule, points, counts/blacklist months+days, ...
    reporters: pl.DataFrame  # version_index, rule, agency


def catalogue_frames(catalogues: Sequence[Catalogue]) -> CatalogueFrames:
    agencies, rules, reporters = [], [], []
    for index, catalogue in enumerate(catalogues):
        agencies += [(index, code) for code in catalogue.agencies]
        for rule in catalogue.rules.values():
            blacklist = rule.blacklist_for
            rules.append(
                (
                    index,
                    rule.code,
                    rule.points,
                    rule.counts_for.months,
                    rule.counts_for.days,
                    None if blacklist is None else blacklist.months,
                    None if blacklist is None else blacklist.days,
                    rule.grade_cap,
                    rule.applies_to == "public-servants",
                    ", ".join(rule.reporters),
                )
            )
            reporters += [(index, rule.code, agency) for agency in rule.reporters]
    index_type = pl.Int32
    return CatalogueFrames(
        versions=tuple(c.version for c in catalogues),
        effective_froms=tuple(c.effective_from for c in catalogues),
        agencies=pl.DataFrame(
            agencies, schema={"version_index": index_type, "n_agency": pl.String}, orient="row"
        ).with_columns(agency_known=pl.lit(True)),
        rules=pl.DataFrame(
            rules,
            orient="row",
            schema={
                "version_index": index_type,
                "n_rule": pl.String,
                "points": pl.Int64,
                "counts_months": pl.Int32,
                "counts_days": pl.Int32,
                "blacklist_months": pl.Int32,
                "blacklist_days": pl.Int32,
                "grade_cap": pl.String,
                "servants_only": pl.Boolean,
                "reporter_list": pl.String,
            },
        ),
        reporters=pl.DataFrame(
            reporters,
            orient="row",
            schema={
                "version_index": index_type,
                "n_rule": pl.String,
                "n_agency": pl.String,
            },
        ).with_columns(is_reporter=pl.lit(True)),
    )


def normalise_events(batch: pl.DataFrame) -> pl.DataFrame:
    """Trimmed key fields, an upper-case person ID, a parsed date, evidence empty -> null."""
    absent = [name for name in EVENT_OPTIONAL if name not in batch.columns]
    batch = batch.with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in absent)
    occurred = stripped("occurred_on")
    well_formed = occurred.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    return batch.with_columns(
        n_agency=stripped("agency"),
        n_event_id=stripped("event_id"),
        n_person_id=stripped("person_id").str.to_uppercase(),
        n_rule=stripped("rule"),
        n_occurred=pl.when(well_formed).then(
            occurred.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        ),
        n_evidence=stripped("evidence"),
        n_corrects=stripped("corrects"),
        n_repairs=stripped("repairs"),
    )


def _version_index(frames: CatalogueFrames) -> pl.Expr:
    """Index of the version in force on n_occurred (-1: before every version)."""
    steps = [(pl.col("n_occurred") >= pl.lit(day)).cast(pl.Int32) for day in frames.effective_froms]
    return (pl.sum_horizontal(steps) - 1).cast(pl.Int32) if steps else pl.lit(-1, pl.Int32)


def _join_catalogue(
    frame: pl.DataFrame, frames: CatalogueFrames, people: pl.DataFrame
) -> pl.DataFrame:
    frame = frame.with_columns(version_index=_version_index(frames))
    frame = frame.join(
        frames.agencies, on=["version_index", "n_agency"], how="left", maintain_order="left"
    )
    frame = frame.join(
        frames.rules, on=["version_index", "n_rule"], how="left", maintain_order="left"
    )
    frame = frame.join(
        frames.reporters,
        on=["version_index", "n_rule", "n_agency"],
        how="left",
        maintain_order="left",
    )
    registered = people.select(
        n_person_id="id", registered=pl.lit(True), public_servant="public_servant"
    )
    return frame.join(registered, on="n_person_id", how="left", maintain_order="left")


def _version_name(frames: CatalogueFrames) -> pl.Expr:
    mapping = dict(enumerate(frames.versions))
    return pl.col("version_index").replace_strict(mapping, default=None, return_dtype=pl.String)


def judge_events(
    batch: pl.DataFrame,
    frames: CatalogueFrames,
    people: pl.DataFrame,
    *,
    today: date,
    max_field_chars: int,
    bound_agency: str | None = None,
    extra_checks: Sequence[Check] = (),
) -> pl.DataFrame:
    """Add ``reason`` and ``message`` (null for rows that pass) and the entry's derived fields.

    ``extra_checks`` are judged after the catalogue's (references to earlier events).

    ``batch`` is the output of ``normalise_events``; ``people`` holds (id, public_servant) for
    at least every registered person the batch names. With ``bound_agency`` (an agency's
    account), a row naming any other agency is rejected with ``not-your-agency``.
    """
    frame = _join_catalogue(batch, frames, people).with_columns(version=_version_name(frames))
    born = birth_date_expr(pl.col("n_person_id"))
    occurred = pl.col("n_occurred")
    occurred_text = occurred.dt.to_string("%Y-%m-%d")
    person_id = pl.col("n_person_id")
    checks = [
        Check("malformed-row", pl.col("malformed").is_not_null(), pl.col("malformed")),
        Check(
            "missing-field", missing_fields(EVENT_REQUIRED), missing_fields_message(EVENT_REQUIRED)
        ),
        Check(
            "invalid-text",
            invalid_text(EVENT_COLUMNS, ("evidence",), max_field_chars),
            invalid_text_message(EVENT_COLUMNS, ("evidence",), max_field_chars),
        ),
        Check(
            "invalid-date",
            occurred.is_null(),
            pl.format(
                "occurred_on {} is not a date written YYYY-MM-DD",
                pl.col("occurred_on").str.strip_chars(),
            ),
        ),
        Check(
            "future-date",
            occurred > pl.lit(today),
            pl.format(f"occurred_on {{}} is after today ({today.isoformat()})", occurred_text),
        ),
        Check(
            "invalid-person-id",
            ~person_id_valid(person_id, today),
            pl.format("person_id {}: {}", person_id, person_id_message(person_id, today)),
        ),
        Check(
            "unregistered-person",
            pl.col("registered").is_null(),
            pl.format("person_id {} is not registered", person_id),
        ),
        Check(
            "before-birth",
            occurred < born,
            pl.format(
                "occurred_on {} is before the birth date {} in person_id",
                occurred_text,
                born.dt.to_string("%Y-%m-%d"),
            ),
        ),
        Check(
            "no-catalogue",
            pl.col("version_index") < 0,
            pl.format("no catalogue version is in force on {}", occurred_text),
        ),
        Check(
            "unknown-agency",
            pl.col("agency_known").is_null(),
            pl.format(
                "agency {} is not in catalogue version {}", pl.col("n_agency"), pl.col("version")
            ),
        ),
        Check(
            "unknown-rule",
            pl.col("points").is_null(),
            pl.format(
                "rule {} is not in catalogue version {}", pl.col("n_rule"), pl.col("version")
            ),
        ),
        Check(
            "not-a-reporter",
            pl.col("is_reporter").is_null(),
            pl.format(
                "agency {} may not report rule {} (its reporters: {})",
                pl.col("n_agency"),
                pl.col("n_rule"),
                pl.col("reporter_list"),
            ),
        ),
        Check(
            "not-a-public-servant",
            pl.col("servants_only") & ~pl.col("public_servant"),
            pl.format(
                "rule {} applies to public servants and {} is not one", pl.col("n_rule"), person_id
            ),
        ),
    ]
    if bound_agency is not None:
        checks.insert(3, _not_your_agency(bound_agency))
    checks += extra_checks
    return apply_checks(frame, checks).with_columns(_derived())


def _not_your_agency(bound_agency: str) -> Check:
    return Check(
        NOT_YOUR_AGENCY,
        pl.col("n_agency") != pl.lit(bound_agency),
        pl.format(
            "agency {} is not the agency of this account ({})",
            pl.col("n_agency"),
            pl.lit(bound_agency),
        ),
    )


def _derived() -> list[pl.Expr]:
    """counts_until and blacklist_until: months first (month-end clamp), then days."""
    counts = pl.col("n_occurred").dt.offset_by(pl.format("{}mo", pl.col("counts_months")))
    blacklist = pl.col("n_occurred").dt.offset_by(pl.format("{}mo", pl.col("blacklist_months")))
    return [
        (counts + pl.duration(days=pl.col("counts_days"))).alias("counts_until"),
        pl.when(pl.col("blacklist_months").is_not_null())
        .then(blacklist + pl.duration(days=pl.col("blacklist_days")))
        .alias("blacklist_until"),
    ]


def _same_content(prefix: str) -> pl.Expr:
    return (
        (pl.col("n_person_id") == pl.col(f"{prefix}person_id"))
        & (pl.col("n_rule") == pl.col(f"{prefix}rule"))
        & (pl.col("n_occurred") == pl.col(f"{prefix}occurred_on"))
        & pl.col("n_evidence").eq_missing(pl.col(f"{prefix}evidence"))
    )


def _difference(prefix: str) -> pl.Expr:
    parts = [
        pl.when(pl.col("n_person_id") != pl.col(f"{prefix}person_id")).then(pl.lit("person_id")),
        pl.when(pl.col("n_rule") != pl.col(f"{prefix}rule")).then(pl.lit("rule")),
        pl.when(pl.col("n_occurred") != pl.col(f"{prefix}occurred_on")).then(pl.lit("occurred_on")),
        pl.when(~pl.col("n_evidence").eq_missing(pl.col(f"{prefix}evidence"))).then(
            pl.lit("evidence")
        ),
    ]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


def classify_keys(judged: pl.DataFrame, stored: pl.DataFrame | None) -> pl.DataFrame:
    """Settle keys among rows that passed every other check: ``outcome`` per row.

    ``outcome`` is ``accepted``, ``duplicate`` or ``rejected`` (with reason ``conflict``).
    A key held by a stored entry compares against it; otherwise the first passing row in file
    order holds the key and later rows compare against that row. Rejected rows hold no key.
    """
    passing = pl.col("reason").is_null()
    key = ["n_agency", "n_event_id"]
    frame = judged.with_columns(
        holder=passing & pl.struct(key).is_first_distinct().over(passing),
    )
    firsts = frame.filter("holder").select(
        *key,
        first_person_id="n_person_id",
        first_rule="n_rule",
        first_occurred_on="n_occurred",
        first_evidence="n_evidence",
    )
    frame = frame.join(firsts, on=key, how="left", maintain_order="left")
    if stored is not None and stored.height:
        stored = stored.rename({"agency": "n_agency", "event_id": "n_event_id"})
        frame = frame.join(
            stored.with_columns(in_store=pl.lit(True)), on=key, how="left", maintain_order="left"
        )
    else:
        frame = frame.with_columns(
            in_store=pl.lit(None, dtype=pl.Boolean),
            **{
                f"stored_{name}": pl.lit(
                    None, dtype=pl.Date if name == "occurred_on" else pl.String
                )
                for name in CONTENT
            },
        )
    prefix = pl.when(pl.col("in_store").is_not_null())
    same = prefix.then(_same_content("stored_")).otherwise(_same_content("first_"))
    differs = prefix.then(_difference("stored_")).otherwise(_difference("first_"))
    held_by = prefix.then(pl.lit("a stored entry")).otherwise(pl.lit("an earlier row of this file"))
    is_new = pl.col("holder") & pl.col("in_store").is_null()
    return frame.with_columns(
        outcome=pl.when(~passing)
        .then(pl.lit("rejected"))
        .when(is_new)
        .then(pl.lit("accepted"))
        .when(same)
        .then(pl.lit("duplicate"))
        .otherwise(pl.lit("rejected")),
        reason=pl.when(passing & ~is_new & ~same)
        .then(pl.lit("conflict"))
        .otherwise(pl.col("reason")),
        message=pl.when(passing & ~is_new & ~same)
        .then(
            pl.format(
                "agency {} event_id {} is held by {} with other {}",
                pl.col("n_agency"),
                pl.col("n_event_id"),
                held_by,
                differs,
            )
        )
        .otherwise(pl.col("message")),
    )
