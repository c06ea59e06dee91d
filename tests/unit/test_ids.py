"""Resident IDs (GB 11643-1999, ISO 7064 MOD 11-2) in ``socialcredit.domain.ids``.

How: known published examples, IDs built with ``make_person_id`` round-tripping, one refusal test
per way an ID can be wrong (each checks the stable part of the reason), and hypothesis properties:
17 random digits plus the computed check character is valid exactly when the encoded birth date is
a real date not after ``today``, and any other check character is refused.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.ids import (
    CHECK_CHARACTERS,
    CHECK_WEIGHTS,
    birth_date_of,
    check_character,
    make_person_id,
    normalise_person_id,
    person_id_problem,
)

TODAY = date(2026, 3, 15)
PUBLISHED = "11010519491231002X"  # the example printed in GB 11643-1999


def _is_real_date(yyyymmdd: str) -> bool:
    try:
        date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return True


def _independent_check(first17: str) -> str:
    """MOD 11-2 written from the standard: weights 2^(17-i) mod 11, check = (12 - sum) mod 11."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


# --- the published example and the constants ------------------------------------------------


def test_published_example_is_valid() -> None:
    assert person_id_problem(PUBLISHED, TODAY) is None
    assert check_character(PUBLISHED[:17]) == "X"
    assert birth_date_of(PUBLISHED) == date(1949, 12, 31)


@pytest.mark.parametrize(
    "person_id", ["11010519491231002X", "440524188001010014", "371082198005170013"]
)
def test_further_known_valid_ids(person_id: str) -> None:
    assert _independent_check(person_id[:17]) == person_id[17]
    assert check_character(person_id[:17]) == person_id[17]
    assert person_id_problem(person_id, TODAY) is None


def test_weights_are_the_standard_ones() -> None:
    assert tuple(2 ** (17 - i) % 11 for i in range(17)) == CHECK_WEIGHTS
    assert len(CHECK_CHARACTERS) == 11
    assert CHECK_CHARACTERS[2] == "X"


# --- make_person_id round trips ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "born", "sequence"),
    [
        ("371082", date(1980, 5, 17), 1),
        ("371082", date(2000, 2, 29), 998),
        ("110105", date(1949, 12, 31), 2),
        ("000000", date(1900, 1, 1), 0),
        ("999999", TODAY, 999),
    ],
)
def test_make_person_id_round_trips(area: str, born: date, sequence: int) -> None:
    person_id = make_person_id(area, born, sequence)
    assert len(person_id) == 18
    assert person_id[:6] == area
    assert person_id[14:17] == f"{sequence:03d}"
    assert birth_date_of(person_id) == born
    assert person_id_problem(person_id, TODAY) is None
    assert normalise_person_id(person_id) == person_id


@pytest.mark.parametrize(
    ("area", "sequence", "needle"),
    [
        ("37108", 1, "area code"),
        ("3710821", 1, "area code"),
        ("37108A", 1, "area code"),
        ("371082", -1, "sequence"),
        ("371082", 1000, "sequence"),
    ],
)
def test_make_person_id_refuses_bad_parts(area: str, sequence: int, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        make_person_id(area, date(1980, 1, 1), sequence)


@pytest.mark.parametrize(
    "first17",
    [
        "",
        "1234567890123456",
        "123456789012345678",
        "1234567890123456X",
        "１２３４５６７８９０１２３４５６７",
    ],
)
def test_check_character_needs_17_ascii_digits(first17: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_character(first17)


@settings(deadline=None)
@given(
    area=st.from_regex(r"[0-9]{6}", fullmatch=True),
    born=st.dates(min_value=date(1800, 1, 1), max_value=TODAY),
    sequence=st.integers(0, 999),
)
def test_property_made_ids_are_valid_and_round_trip(area: str, born: date, sequence: int) -> None:
    person_id = make_person_id(area, born, sequence)
    assert person_id_problem(person_id, TODAY) is None
    assert person_id_problem(person_id.lower(), TODAY) is None
    assert birth_date_of(person_id) == born
    assert person_id[17] == _independent_check(person_id[:17])


# --- the core property ------------------------------------------------------------------------


@settings(deadline=None, max_examples=400)
@given(
    first17=st.one_of(
        st.from_regex(r"[0-9]{17}", fullmatch=True),
        # Bias towards plausible birth dates, so that the "valid" side is well exercised too.
        st.builds(
            lambda area, y, m, d, seq: f"{area}{y:04d}{m:02d}{d:02d}{seq:03d}",
            st.from_regex(r"[0-9]{6}", fullmatch=True),
            st.integers(1890, 2030),
            st.integers(0, 13),
            st.integers(0, 32),
            st.integers(0, 999),
        ),
    ),
    today=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
)
def test_property_valid_iff_real_birth_date_not_after_today(first17: str, today: date) -> None:
    person_id = first17 + check_character(first17)
    digits = first17[6:14]
    expected_valid = _is_real_date(digits) and birth_date_of(person_id) <= today
    problem = person_id_problem(person_id, today)
    assert (problem is None) == expected_valid, problem
    if not _is_real_date(digits):
        assert problem is not None and "not a real date" in problem
    elif not expected_valid:
        assert problem is not None and "in the future" in problem


@settings(deadline=None)
@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(0, 999),
    wrong=st.sampled_from("0123456789X"),
)
def test_property_any_other_check_character_is_refused(
    born: date, sequence: int, wrong: str
) -> None:
    valid = make_person_id("371082", born, sequence)
    if wrong == valid[17]:
        return
    problem = person_id_problem(valid[:17] + wrong, TODAY)
    assert problem is not None
    assert f"check character is {wrong}, expected {valid[17]}" in problem


@settings(deadline=None)
@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    position=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_property_a_single_changed_digit_is_detected(born: date, position: int, delta: int) -> None:
    # MOD 11-2 detects every single-digit substitution: the ID must not stay valid.
    valid = make_person_id("371082", born, 7)
    changed_digit = str((int(valid[position]) + delta) % 10)
    changed = valid[:position] + changed_digit + valid[position + 1 :]
    assert person_id_problem(changed, TODAY) is not None


# --- refusals, each with its reason -----------------------------------------------------------


def test_wrong_check_character_refused_with_both_characters() -> None:
    problem = person_id_problem("110105194912310021", TODAY)
    assert problem is not None
    assert "check character" in problem and "expected X" in problem


def test_lowercase_x_is_read_as_x() -> None:
    assert person_id_problem("11010519491231002x", TODAY) is None
    assert normalise_person_id("11010519491231002x") == PUBLISHED


def test_surrounding_spaces_are_trimmed() -> None:
    assert normalise_person_id("  11010519491231002x\t") == PUBLISHED
    assert person_id_problem(" 11010519491231002X ", TODAY) is None


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("", "has 0 characters"),
        ("   ", "has 0 characters"),
        ("11010519491231002", "has 17 characters"),
        ("11010519491231002XX", "has 19 characters"),
        ("110105194912310021X", "has 19 characters"),
        ("1101051949123100", "has 16 characters"),
        ("1101051949 1231002X", "has 19 characters"),
    ],
)
def test_wrong_length_refused(raw: str, needle: str) -> None:
    problem = person_id_problem(raw, TODAY)
    assert problem is not None
    assert needle in problem and "18" in problem


@pytest.mark.parametrize(
    "raw",
    [
        "A1010519491231002X",  # a letter in the area code
        "1101051949123100AX",  # a letter in the sequence
        "11010519491231002Y",  # a check character that is neither digit nor X
        "X10105194912310021",  # X in the wrong place
        "1101051949 231002X",  # a space inside, same length
        "11010519491231002-",
        "-11010519491231002",
        "１10105194912310021",  # one full-width digit
        "１１０１０５１９４９１２３１００２Ｘ",  # all full-width
        "11010519491231002\u0661",  # Arabic-Indic digit one
        "+11010519491231002",
    ],
)
def test_non_ascii_digit_shapes_refused(raw: str) -> None:
    assert len(normalise_person_id(raw)) == 18  # so that it is the shape, not the length, at fault
    problem = person_id_problem(raw, TODAY)
    assert problem is not None
    assert "17 ASCII digits followed by a digit or X" in problem


@pytest.mark.parametrize(
    "birth",
    [
        "19990230",
        "19990229",
        "20230229",
        "19991301",
        "19990001",
        "19990100",
        "19990431",
        "00000101",
        "19991232",
    ],
)
def test_non_real_birth_dates_refused(birth: str) -> None:
    first17 = "371082" + birth + "001"
    problem = person_id_problem(first17 + check_character(first17), TODAY)
    assert problem is not None
    assert f"birth date {birth} is not a real date" in problem


def test_leap_day_in_a_leap_year_is_real() -> None:
    assert person_id_problem(make_person_id("371082", date(2000, 2, 29), 1), TODAY) is None


def test_future_birth_date_refused() -> None:
    tomorrow = TODAY + timedelta(days=1)
    person_id = make_person_id("371082", tomorrow, 1)
    problem = person_id_problem(person_id, TODAY)
    assert problem is not None
    assert f"birth date {tomorrow.isoformat()} is in the future" in problem


def test_born_today_is_valid() -> None:
    assert person_id_problem(make_person_id("371082", TODAY, 1), TODAY) is None


def test_birth_date_of_raises_for_unreal_date() -> None:
    with pytest.raises(ValueError):
        birth_date_of("371082" + "19990230" + "0010")
