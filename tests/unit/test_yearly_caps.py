"""The yearly-cap use an import reads ahead is settled against the batch written meanwhile
(``yearly_caps.OwnUse``): counted once whether or not that batch had committed, and given up
(read again from the store) when it is not known or the batch corrected events."""

from datetime import date

import polars as pl

from socialcredit.services.yearly_caps import OwnUse, UseAhead, batch_use

CAPS = {("2026.2", "DONATION"): 40}


def _batch(rows: list[tuple[str, str, int, str]], corrects: str | None = None) -> pl.DataFrame:
    """Judged rows: person, rule, points, outcome (all in 2026); ``corrects``: the first row
    corrects that event."""
    return pl.DataFrame(
        [
            ("red-cross", person, rule, date(2026, 3, 1), points, outcome, None, None)
            for person, rule, points, outcome in rows
        ],
        orient="row",
        schema={
            "n_agency": pl.String,
            "n_person_id": pl.String,
            "n_rule": pl.String,
            "n_occurred": pl.Date,
            "points": pl.Int64,
            "outcome": pl.String,
            "n_corrects": pl.String,
            "n_repairs": pl.String,
        },
    ).with_columns(
        n_corrects=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(corrects)).otherwise(None)
    )


def _use(rows: list[tuple[str, int]]) -> pl.DataFrame:
    """Use of DONATION in 2026 per person."""
    return pl.DataFrame(
        [(person, "DONATION", 2026, used) for person, used in rows],
        orient="row",
        schema={"n_person_id": pl.String, "n_rule": pl.String, "year": pl.Int32, "used": pl.Int64},
    )


def _as_dict(use: pl.DataFrame | None) -> dict[str, int] | None:
    if use is None:
        return None
    return dict(zip(use["n_person_id"].to_list(), use["used"].to_list(), strict=True))


def _after_one_batch(*, refers: bool = False) -> OwnUse:
    own = OwnUse(CAPS)
    own.written(
        _batch(
            [
                ("P1", "DONATION", 15, "accepted"),
                ("P2", "DONATION", 15, "accepted"),
                ("P2", "DONATION", 15, "duplicate"),  # not written: uses nothing
                ("P3", "TRAFFIC-RED-LIGHT", -5, "accepted"),  # not capped
            ],
            corrects="D0" if refers else None,
        )
    )
    return own


def test_use_read_after_the_batch_committed_already_counts_it():
    own = _after_one_batch()
    settled = own.settle(UseAhead(_use([("P1", 30)]), committed_rows=4))
    assert _as_dict(settled) == {"P1": 30}


def test_use_read_before_the_batch_committed_gets_its_use_added():
    own = _after_one_batch()
    settled = own.settle(UseAhead(_use([("P1", 10), ("P9", 5)]), committed_rows=0))
    assert _as_dict(settled) == {"P1": 25, "P2": 15, "P9": 5}


def test_use_of_unknown_moment_or_after_corrections_is_read_again():
    own = _after_one_batch()
    assert own.settle(None) is None
    assert own.settle(UseAhead(_use([]), committed_rows=2)) is None  # neither count
    corrected = _after_one_batch(refers=True)
    assert corrected.settle(UseAhead(_use([]), committed_rows=0)) is None
    assert _as_dict(corrected.settle(UseAhead(_use([("P1", 15)]), committed_rows=4))) == {"P1": 15}


def test_counts_move_on_with_each_batch():
    own = _after_one_batch()
    own.written(_batch([("P1", "DONATION", 15, "accepted")]))
    assert (own.rows_before, own.rows_after) == (4, 5)
    assert own.settle(UseAhead(_use([]), committed_rows=0)) is None  # two batches behind
    assert _as_dict(own.settle(UseAhead(_use([("P1", 5)]), committed_rows=4))) == {"P1": 20}


def test_batch_use_counts_a_capped_rule_of_any_version():
    rows = _batch([("P1", "DONATION", 15, "accepted"), ("P1", "DONATION", 15, "accepted")])
    rows = rows.with_columns(version=pl.Series(["2026.1", "2026.2"]))  # 2026.1 has no cap
    assert _as_dict(batch_use(rows, CAPS)) == {"P1": 30}
    assert batch_use(rows, {}).height == 0
