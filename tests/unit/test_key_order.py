"""``bulk.in_key_order``: a merge writes rows in (agency, event_id) byte order, the order two
transactions must share to never deadlock; a frame already in it is checked, not sorted."""

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from socialcredit.store.bulk import in_key_order

KEYS = st.lists(
    st.tuples(st.sampled_from(["court", "Court", "red-cross", "é-office"]), st.text(max_size=6)),
    unique=True,
    max_size=30,
)


def _frame(keys: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(keys, orient="row", schema={"agency": pl.String, "event_id": pl.String})


def _byte_order(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(keys, key=lambda key: (key[0].encode(), key[1].encode()))


@given(KEYS)
def test_any_frame_comes_out_in_byte_order(keys: list[tuple[str, str]]):
    assert in_key_order(_frame(keys)).rows() == _byte_order(keys)


@given(KEYS)
def test_a_frame_in_key_order_is_handed_back_as_it_is(keys: list[tuple[str, str]]):
    ordered = _frame(_byte_order(keys))
    assert in_key_order(ordered) is ordered


def test_one_pair_out_of_order_is_found():
    keys = [("court", "A1"), ("court", "B1"), ("court", "A2"), ("red-cross", "A0")]
    assert in_key_order(_frame(keys)).rows() == _byte_order(keys)
    upper_first = [("Court", "y"), ("court", "x")]  # bytes, not a locale's collation
    assert in_key_order(_frame(upper_first[::-1])).rows() == upper_first
