"""The printed statement (PDF and HTML) and the plots, checked by reading back what was written."""

import logging
import os
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from PIL import Image
from pypdf import PdfReader

from socialcredit.reports import fonts
from socialcredit.reports.pdf import MAX_WRITTEN_TERMS, render_statement_pdf, statement_html
from socialcredit.reports.plots import (
    entries_over_time_series,
    grade_distribution_bars,
    plot_entries_over_time,
    plot_grade_distribution,
)
from socialcredit.services.models import Statement, StatementEntry

ZHANG_ID = "371082198403051239"
GRADES = ("AAA", "AA", "A+", "A", "B", "C", "D")
AS_OF = date(2026, 11, 27)
CJK_FONT_WORDS = ("CJK", "Noto", "SourceHan", "WenQuanYi", "Droid", "UMing", "UKai")


def _entry(
    event_id: str,
    *,
    agency: str = "traffic-police",
    agency_name: str = "Municipal Traffic Police Brigade",
    rule: str = "TRAFFIC-RED-LIGHT",
    title: str = "Running a red light",
    title_zh: str | None = "闯红灯",
    points: int = -5,
    occurred_on: date = date(2026, 3, 2),
    counts_for_days: int = 365,
    status: str = "active",
    why: str = "counts",
    blacklist_until: date | None = None,
    grade_cap: str | None = None,
    ends_on: date | None = None,
) -> StatementEntry:
    return StatementEntry(
        agency=agency,
        agency_name=agency_name,
        event_id=event_id,
        rule=rule,
        title=title,
        title_zh=title_zh,
        legal_basis="Road Traffic Safety Law, art. 38 and 90",
        points=points,
        occurred_on=occurred_on,
        counts_until=occurred_on + timedelta(days=counts_for_days),
        blacklist_until=blacklist_until,
        grade_cap=grade_cap,
        status=status,
        ends_on=ends_on,
        counts=why == "counts",
        why=why,
        catalogue_version="2026.1",
        evidence=None,
        recorded_at=datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
    )


ZHANG_ENTRIES = (
    _entry("TP-2026-0042"),
    _entry(
        "FB-2026-0118",
        agency="forestry-bureau",
        agency_name="Forestry Bureau",
        rule="WORK-MERIT-ANNUAL",
        title="Annual performance rated excellent",
        title_zh="年度考核优秀",
        points=20,
        occurred_on=date(2026, 1, 15),
    ),
    _entry("TP-2024-0007", occurred_on=date(2024, 5, 2), why="expired"),
    _entry(
        "PS-2026-0009",
        agency="public-security",
        agency_name="Public Security Bureau",
        rule="PUBLIC-FIGHT",
        title="Fighting in a public place",
        title_zh="在公共场所斗殴",
        points=-30,
        occurred_on=date(2026, 2, 2),
        blacklist_until=date(2027, 2, 2),
        status="overturned",
        why="overturned",
    ),
    _entry(
        "TP-2025-0311",
        occurred_on=date(2025, 12, 1),
        ends_on=date(2026, 6, 1),
        why="ended",
    ),
    _entry("TP-2026-0101", occurred_on=date(2026, 4, 9), status="withdrawn", why="withdrawn"),
)


def _statement(entries: tuple[StatementEntry, ...] = ZHANG_ENTRIES, **changes: object) -> Statement:
    counted = sum(entry.points for entry in entries if entry.counts)
    statement = Statement(
        id=ZHANG_ID,
        name="张建",
        district="Yatou Subdistrict 崖头街道",
        public_servant=True,
        as_of=AS_OF,
        score=1000 + counted,
        grade="A+",
        blacklisted=False,
        base_score=1000,
        catalogue_version="2026.1",
        issued_at=datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        entries=entries,
    )
    return replace(statement, **changes)  # type: ignore[arg-type]


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def _flat(text: str) -> str:
    """Text without whitespace: a table cell may wrap an ID or a date across lines."""
    return re.sub(r"\s+", "", text)


def _embedded_fonts(path: Path) -> set[str]:
    names: set[str] = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture
def cjk_font() -> fonts.CjkFont:
    """The installed CJK font; without one, skip (locally) or fail (under CI=true)."""
    font = fonts.find_cjk_font()
    if font is None:
        reason = "no CJK font installed (apt-get install -y fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must not skip")
        pytest.skip(reason)
    return font


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch):
    """Pretend fontconfig knows no CJK font; the cached answer is restored afterwards."""
    monkeypatch.setattr(fonts, "_fontconfig_zh_fonts", list)
    fonts.find_cjk_font.cache_clear()
    yield
    monkeypatch.undo()
    fonts.find_cjk_font.cache_clear()


# --- the statement -----------------------------------------------------------------------------


def test_zhang_jian_statement_shows_person_score_and_every_entry(
    cjk_font: fonts.CjkFont, tmp_path: Path
) -> None:
    statement = _statement()
    assert statement.score == 1015

    path = render_statement_pdf(statement, tmp_path / "out" / "zhang.pdf")

    assert path == tmp_path / "out" / "zhang.pdf"
    pages = _pdf_text(path)
    text = "\n".join(pages)
    flat = _flat(text)
    for expected in ("张建", ZHANG_ID, "1015", "A+", "荣成市社会信用管理办公室", "2026-11-27"):
        assert expected in flat
    assert "Rongcheng Municipal Social Credit Management Office" in text
    assert "Social credit points statement" in text
    # The arithmetic, written out, over the counted entries only.
    assert "1000 - 5 + 20 = 1015" in text
    assert "sum of 2 counted entries +15" in text
    # Every entry is listed, counting or not, with the reason it counts or does not.
    for entry in statement.entries:
        assert _flat(entry.event_id) in flat
    for word in ("counts", "expired", "ended", "overturned", "withdrawn"):
        assert re.search(rf"\b{word}\b", text), word
    for expected in (
        "TRAFFIC-RED-LIGHT",
        "WORK-MERIT-ANNUAL",
        "闯红灯",
        "年度考核优秀",
        "+20",
        "-5",
    ):
        assert expected in flat
    assert "blacklistuntil2027-02-02" in flat
    assert "Issued at 2026-11-27 09:30:00 UTC+08:00" in text
    assert "How to contest an entry" in text
    assert f"page 1 of {len(pages)}" in pages[0]
    assert "Blacklisted" in text and "否 No" in text
    assert "Public servant" in text and "是 Yes" in text


def test_statement_embeds_a_cjk_font(cjk_font: fonts.CjkFont, tmp_path: Path) -> None:
    path = render_statement_pdf(_statement(), tmp_path / "zhang.pdf")

    names = _embedded_fonts(path)
    assert any(word.lower() in name.lower() for name in names for word in CJK_FONT_WORDS), names
    # Subset fonts (a "ABCDEF+" tag), never a whole 20 MB CJK font.
    assert all(re.match(r"/[A-Z]{6}\+", name) for name in names), names
    assert path.stat().st_size < 1_000_000


def test_statement_pdf_metadata_and_bytes_are_deterministic(
    cjk_font: fonts.CjkFont, tmp_path: Path
) -> None:
    first = render_statement_pdf(_statement(), tmp_path / "a.pdf")
    second = render_statement_pdf(_statement(), tmp_path / "b.pdf")

    assert first.read_bytes() == second.read_bytes()
    metadata = PdfReader(first).metadata
    assert metadata is not None
    assert "张建" in metadata.title and ZHANG_ID in metadata.title
    assert metadata["/CreationDate"].startswith("D:20261127093000")


def test_many_entries_break_into_pages_numbered_n_of_m(
    cjk_font: fonts.CjkFont, tmp_path: Path
) -> None:
    entries = tuple(
        _entry(f"TX-{number:04d}", occurred_on=date(2026, 1, 1) + timedelta(days=number))
        for number in range(120)
    )
    statement = _statement(entries)

    pages = _pdf_text(render_statement_pdf(statement, tmp_path / "long.pdf"))

    total = len(pages)
    assert total >= 3
    for number, text in enumerate(pages, start=1):
        assert f"page {number} of {total}" in text
        assert "张建" in text and ZHANG_ID in text  # the running footer names the person
        if number < total:
            assert "Points" in text and "Counts?" in text  # the table header repeats
    flat = _flat("".join(pages))
    for entry in entries:
        assert entry.event_id in flat
    # More than MAX_WRITTEN_TERMS counted entries: the sum, not every term.
    assert len(entries) > MAX_WRITTEN_TERMS
    assert f"1000 - 600 = {statement.score}" in pages[0]
    assert statement.score == 400


def test_not_counting_entries_are_present_but_muted() -> None:
    html = statement_html(_statement())

    rows = re.findall(r'<tr class="(counts|muted)">', html)
    assert rows == ["counts" if entry.counts else "muted" for entry in ZHANG_ENTRIES]
    assert "tr.muted td" in html  # the stylesheet greys them


def test_statement_html_escapes_what_agencies_and_people_sent() -> None:
    hostile = _entry(
        "<b>id</b>",
        title="<script>alert('x')</script>",
        title_zh=None,
        agency_name="Tom & Jerry's",
    )
    statement = _statement((hostile,), name="<img src=x onerror=alert(1)>")

    html = statement_html(statement)

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;id&lt;/b&gt;" in html
    assert "Tom &amp; Jerry&#39;s" in html
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_statement_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    wrong = _statement(score=1016)

    with pytest.raises(ValueError, match="does not add up"):
        statement_html(wrong)
    with pytest.raises(ValueError, match="does not add up"):
        render_statement_pdf(wrong, tmp_path / "wrong.pdf")
    assert not (tmp_path / "wrong.pdf").exists()


def test_statement_without_entries(cjk_font: fonts.CjkFont, tmp_path: Path) -> None:
    statement = _statement(())

    text = _pdf_text(render_statement_pdf(statement, tmp_path / "empty.pdf"))[0]

    assert "No entries" in text
    assert "1000 = 1000" in text


def test_caps_and_blacklist_are_explained() -> None:
    fight = _entry(
        "PS-2026-0010",
        agency="public-security",
        rule="PUBLIC-FIGHT",
        points=-30,
        occurred_on=date(2026, 6, 1),
        blacklist_until=date(2027, 6, 1),
        grade_cap="C",
    )
    statement = _statement((fight,), blacklisted=True, grade="C")

    html = statement_html(statement)

    assert "grade cap C" in html
    assert "On the blacklist because of" in html and "until 2027-06-01" in html


def test_without_a_cjk_font_it_still_renders_and_says_what_to_install(
    no_cjk_font: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="socialcredit.reports")

    first = render_statement_pdf(_statement(), tmp_path / "a.pdf")
    render_statement_pdf(_statement(), tmp_path / "b.pdf")

    assert PdfReader(first).pages  # a readable PDF
    messages = [
        record.getMessage() for record in caplog.records if "fonts-noto-cjk" in record.getMessage()
    ]
    assert len(messages) == 1  # said once, not per statement
    assert 'font-family: "PingFang SC"' in statement_html(_statement())


def test_font_choice_follows_the_preference_list() -> None:
    noto_sc = Path("/fonts/NotoSansCJK-Regular.ttc")
    found = [
        ("WenQuanYi Zen Hei", Path("/fonts/wqy-zenhei.ttc")),
        ("Noto Sans CJK JP", noto_sc),
        ("Noto Sans CJK SC", Path("/fonts/NotoSansCJK-Bold.ttc")),
        ("Noto Sans CJK SC", noto_sc),
        ('Evil"; } body { x', Path("/fonts/evil.ttf")),
    ]
    assert fonts._choose(found) == fonts.CjkFont("Noto Sans CJK SC", noto_sc)
    assert fonts._choose(found[:1]) == fonts.CjkFont("WenQuanYi Zen Hei", found[0][1])
    assert fonts._choose([("Droid Sans Fallback", Path("/d.ttf"))]).family == "Droid Sans Fallback"
    assert fonts._choose([found[-1]]) is None  # a name unsafe to quote in CSS is not used
    assert fonts._choose([]) is None


def test_has_cjk() -> None:
    assert fonts.has_cjk("traffic", "张建")
    assert not fonts.has_cjk("traffic-police", None, "A+")


# --- plots -------------------------------------------------------------------------------------


def _png(path: Path) -> Image.Image:
    assert path.exists() and path.stat().st_size > 5_000
    image = Image.open(path)
    image.load()
    assert image.format == "PNG"
    return image


def test_grade_distribution_keeps_catalogue_order_and_empty_grades(tmp_path: Path) -> None:
    counts = {"A": 600, "A+": 300, "B": 80, "AAA": 20}  # not in order, AA, C and D missing

    bars = grade_distribution_bars(counts, GRADES)
    path = plot_grade_distribution(counts, GRADES, tmp_path / "g" / "grades.png", blacklisted=7)

    assert [bar.grade for bar in bars] == list(GRADES)
    assert [bar.count for bar in bars] == [20, 0, 300, 600, 80, 0, 0]
    assert bars[3].share == pytest.approx(0.6)
    image = _png(path)
    assert image.size == (1200, 720)
    description = image.text["Description"]
    assert "AA: 0 (0.0%)" in description and "D: 0 (0.0%)" in description
    assert "blacklisted: 7" in description
    assert "Software" not in image.text  # no version, no timestamp: same data, same bytes


def test_grade_distribution_is_deterministic(tmp_path: Path) -> None:
    counts = {"A": 5, "B": 2}
    first = plot_grade_distribution(counts, GRADES, tmp_path / "a.png", title="Rongcheng 荣成市")
    second = plot_grade_distribution(counts, GRADES, tmp_path / "b.png", title="Rongcheng 荣成市")

    assert first.read_bytes() == second.read_bytes()
    assert _png(first).text["Title"] == "Rongcheng 荣成市"


def test_grade_distribution_of_nobody_is_a_valid_plot(tmp_path: Path) -> None:
    bars = grade_distribution_bars({}, GRADES)
    path = plot_grade_distribution({}, GRADES, tmp_path / "none.png", blacklisted=0)

    assert [bar.count for bar in bars] == [0] * len(GRADES)
    assert all(bar.share == 0.0 for bar in bars)
    assert _png(path).size == (1200, 720)


@pytest.mark.parametrize(
    ("counts", "blacklisted", "message"),
    [
        ({"E": 1}, None, "not in the catalogue: E"),
        ({"A": -1}, None, ">= 0"),
        ({"A": 1.5}, None, "whole number"),
        ({"A": 3}, 4, "between 0 and 3"),
    ],
)
def test_grade_distribution_refuses_bad_counts(
    tmp_path: Path, counts: dict[str, int], blacklisted: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plot_grade_distribution(counts, GRADES, tmp_path / "bad.png", blacklisted=blacklisted)
    assert not (tmp_path / "bad.png").exists()


def _entries_frame() -> pl.DataFrame:
    rows = []
    agencies = [f"agency-{index:02d}" for index in range(12)] + ["交警大队"]
    for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 4, 1)):  # March: nothing
        for rank, agency in enumerate(agencies):
            rows.append({"month": month, "agency": agency, "entries": 100 - rank * 7})
    rows.append({"month": date(2026, 4, 1), "agency": "交警大队", "entries": 1000})
    return pl.DataFrame(rows, schema={"month": pl.Date, "agency": pl.String, "entries": pl.Int64})


def test_entries_over_time_top_agencies_and_other(tmp_path: Path) -> None:
    frame = _entries_frame()

    data = entries_over_time_series(frame, top=3)
    path = plot_entries_over_time(frame, tmp_path / "entries.png", top=3)

    assert data.months == (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1))
    assert data.labels == ("交警大队", "agency-00", "agency-01", "other (10 agencies)")
    assert data.other == "other (10 agencies)"
    assert dict(data.series)["交警大队"] == (16, 16, 0, 1016)  # repeated rows add up
    assert data.agencies == 13
    assert sum(sum(values) for _, values in data.series) == data.total == frame["entries"].sum()
    image = _png(path)
    assert image.size == (1500, 780)
    assert "other (10 agencies)" in image.text["Description"]


def test_entries_over_time_with_few_agencies_has_no_other(tmp_path: Path) -> None:
    frame = _entries_frame().filter(pl.col("agency").is_in(["agency-00", "agency-01"]))

    data = entries_over_time_series(frame)

    assert data.other is None
    assert data.labels == ("agency-00", "agency-01")
    _png(plot_entries_over_time(frame, tmp_path / "two.png"))


def test_entries_over_time_of_an_empty_frame_is_an_empty_but_valid_plot(tmp_path: Path) -> None:
    empty = _entries_frame().head(0)

    data = entries_over_time_series(empty)
    path = plot_entries_over_time(empty, tmp_path / "empty.png")

    assert data.months == () and data.series == () and data.total == 0
    image = _png(path)
    assert image.size == (1500, 780)
    assert image.text["Description"].startswith("no entries")


@pytest.mark.parametrize(
    ("frame", "top", "message"),
    [
        (pl.DataFrame({"month": [date(2026, 1, 1)], "entries": [1]}), 10, "lacks column"),
        (_entries_frame(), 0, "top must be at least 1"),
        (
            pl.DataFrame({"month": [date(2026, 1, 1)], "agency": ["x"], "entries": [-1]}),
            10,
            "negative",
        ),
        (
            pl.DataFrame({"month": [date(2026, 1, 1)], "agency": [None], "entries": [1]}),
            10,
            "empty value",
        ),
        (
            pl.DataFrame({"month": ["2026-01"], "agency": ["x"], "entries": [1]}),
            10,
            "must hold dates",
        ),
    ],
)
def test_entries_over_time_refuses_bad_frames(
    tmp_path: Path, frame: pl.DataFrame, top: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plot_entries_over_time(frame, tmp_path / "bad.png", top=top)
