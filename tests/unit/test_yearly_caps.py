"""The yearly-cap use an import reads ahead is settled against the batch written meanwhile
(``yearly_caps.OwnUse``): counted once whether or not that batch had committed, and given up
(read again from the store) when it is not known, the batch corrected events, or another
writer of capped entries committed since it was read."""

from datetime import date

import polars as pl

from socialcredit.services.yearly_caps import (
    OwnUse,
    UseAhead,
    batch_use,
    counts_toward_caps,
    has_capped_rows,
)

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


def _after_one_batch(*, refers: bool = False, took_turn: bool = True) -> OwnUse:
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
        ),
        took_turn=took_turn,
    )
    return own


def _ahead(use: list[tuple[str, int]], committed_rows: int, cap_writes: int = 10) -> UseAhead:
    return UseAhead(_use(use), committed_rows=committed_rows, cap_writes=cap_writes)


def test_use_read_after_the_batch_committed_already_counts_it():
    own = _after_one_batch()
    settled = own.settle(_ahead([("P1", 30)], committed_rows=4), cap_writes=10)
    assert _as_dict(settled) == {"P1": 30}


def test_use_read_before_the_batch_committed_gets_its_use_added():
    own = _after_one_batch()
    # The batch's own turn is the one cap write since the use was read.
    settled = own.settle(_ahead([("P1", 10), ("P9", 5)], committed_rows=0), cap_writes=11)
    assert _as_dict(settled) == {"P1": 25, "P2": 15, "P9": 5}
    no_turn = _after_one_batch(took_turn=False)
    settled = no_turn.settle(_ahead([("P1", 10)], committed_rows=0), cap_writes=10)
    assert _as_dict(settled) == {"P1": 25, "P2": 15}


def test_another_import_writing_capped_entries_since_the_read_makes_it_read_again():
    own = _after_one_batch()
    assert own.settle(_ahead([("P1", 30)], committed_rows=4), cap_writes=11) is None
    assert own.settle(_ahead([("P1", 10)], committed_rows=0), cap_writes=12) is None
    no_turn = _after_one_batch(took_turn=False)
    assert no_turn.settle(_ahead([("P1", 10)], committed_rows=0), cap_writes=11) is None
    # A count that went back cannot be explained either.
    assert own.settle(_ahead([("P1", 10)], committed_rows=0), cap_writes=10) is None


def test_use_of_unknown_moment_or_after_corrections_is_read_again():
    own = _after_one_batch()
    assert own.settle(None, cap_writes=10) is None
    assert own.settle(_ahead([("P1", 30)], committed_rows=4), cap_writes=None) is None  # no turn
    assert own.settle(_ahead([], committed_rows=2), cap_writes=10) is None  # neither count
    corrected = _after_one_batch(refers=True)
    assert corrected.settle(_ahead([], committed_rows=0), cap_writes=11) is None
    settled = corrected.settle(_ahead([("P1", 15)], committed_rows=4), cap_writes=10)
    assert _as_dict(settled) == {"P1": 15}


def test_counts_move_on_with_each_batch():
    own = _after_one_batch()
    own.written(_batch([("P1", "DONATION", 15, "accepted")]), took_turn=True)
    assert (own.rows_before, own.rows_after, own.last_turns) == (4, 5, 1)
    assert own.settle(_ahead([], committed_rows=0), cap_writes=11) is None  # two batches behind
    settled = own.settle(_ahead([("P1", 5)], committed_rows=4), cap_writes=11)
    assert _as_dict(settled) == {"P1": 20}


def test_a_batch_counts_toward_caps_with_a_capped_rule_of_any_version_or_a_reference():
    capped = _batch([("P1", "DONATION", 15, "accepted")]).with_columns(version=pl.lit("2026.1"))
    uncapped = _batch([("P3", "TRAFFIC-RED-LIGHT", -5, "accepted")])
    assert counts_toward_caps(capped, CAPS)  # capped in 2026.2 only: its entries still count
    assert not counts_toward_caps(uncapped, CAPS)
    assert counts_toward_caps(_batch([("P3", "TRAFFIC-RED-LIGHT", -5, "accepted")], "T0"), CAPS)
    assert not counts_toward_caps(capped, {})  # no rule has a cap: nothing to take turns for


def test_only_accepted_rows_of_a_capped_rule_are_capped_rows():
    assert has_capped_rows(_batch([("P1", "DONATION", 15, "accepted")]), CAPS)
    assert not has_capped_rows(_batch([("P1", "DONATION", 15, "duplicate")]), CAPS)
    assert not has_capped_rows(_batch([("P3", "TRAFFIC-RED-LIGHT", -5, "accepted")]), CAPS)
    assert not has_capped_rows(_batch([("P1", "DONATION", 15, "accepted")]), {})


def test_batch_use_counts_a_capped_rule_of_any_version():
    rows = _batch([("P1", "DONATION", 15, "accepted"), ("P1", "DONATION", 15, "accepted")])
    rows = rows.with_columns(version=pl.Series(["2026.1", "2026.2"]))  # 2026.1 has no cap
    assert _as_dict(batch_use(rows, CAPS)) == {"P1": 30}
    assert batch_use(rows, {}).height == 0
