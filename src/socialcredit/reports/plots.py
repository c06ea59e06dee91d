"""Plots for the demo, the reports and the portal: PNG files drawn with matplotlib's Agg canvas.

No pyplot and no display: each plot builds its own ``Figure`` on an Agg canvas. The numbers
behind each plot come from a pure function (``grade_distribution_bars``,
``entries_over_time_series``) that callers and tests can use without reading pixels, and the PNG
carries them as its ``Description`` text. Output is deterministic: the same data give the same
bytes (no timestamp, no software version in the PNG metadata).

A Chinese-capable font (found through fontconfig, see ``fonts.py``) is used only when a label
holds CJK characters; otherwise matplotlib's bundled DejaVu Sans draws everything.
"""

import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib
import polars as pl
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from socialcredit.reports.fonts import find_cjk_font, has_cjk

__all__ = [
    "EntriesOverTime",
    "GradeBar",
    "entries_over_time_series",
    "grade_distribution_bars",
    "plot_entries_over_time",
    "plot_grade_distribution",
]

_DPI = 150
_LATIN_FAMILY = "DejaVu Sans"  # bundled with matplotlib: always there
# rcParams are process-global; plots drawn from several threads (the portal) take turns.
_LOCK = threading.Lock()
# From the best grade (green) to the worst (red).
_GRADE_COLOURS = matplotlib.colormaps["RdYlGn_r"]
_OTHER_COLOUR = "#9e9e9e"
# tab20 without its greys (kept for "other"): the ten strong colours first, then their light twins.
_AGENCY_COLOURS = tuple(
    matplotlib.colormaps["tab20"](index)
    for index in (0, 2, 4, 6, 8, 10, 12, 16, 18, 1, 3, 5, 7, 9, 11, 13, 17, 19)
)


@dataclass(frozen=True, slots=True)
class GradeBar:
    """One bar of the grade distribution: how many people hold ``grade`` and their share."""

    grade: str
    count: int
    share: float  # of everyone counted, 0.0 when nobody is


@dataclass(frozen=True, slots=True)
class EntriesOverTime:
    """Entries per month for the top agencies (most entries first) and one bucket for the rest."""

    months: tuple[date, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (label, one count per month)
    agencies: int  # distinct agencies in the data
    total: int
    other: str | None = None  # the label of the "other" bucket, when there is one

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.series)


# --- the numbers -----------------------------------------------------------------------------


def grade_distribution_bars(
    counts: Mapping[str, int], grades: Sequence[str]
) -> tuple[GradeBar, ...]:
    """One bar per grade in catalogue order (best to worst); grades nobody holds get 0.

    Raises ``ValueError`` for an empty or repeated grade list, a count for a grade the list does
    not have, or a negative count.
    """
    grades = list(grades)
    if not grades:
        raise ValueError("no grades given")
    if len(set(grades)) != len(grades):
        raise ValueError(f"grades repeat: {grades}")
    unknown = sorted(set(counts) - set(grades))
    if unknown:
        raise ValueError(f"counts for grades not in the catalogue: {', '.join(unknown)}")
    for grade, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count for grade {grade} must be a whole number >= 0, got {count!r}")
    total = sum(counts.values())
    return tuple(
        GradeBar(grade, counts.get(grade, 0), counts.get(grade, 0) / total if total else 0.0)
        for grade in grades
    )


def _month(value: date) -> date:
    return date(value.year, value.month, 1)


def _months_between(first: date, last: date) -> list[date]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def entries_over_time_series(frame: pl.DataFrame, *, top: int = 10) -> EntriesOverTime:
    """Entries per month for the ``top`` agencies with most entries, the rest summed as "other".

    ``frame`` has columns ``month`` (a date; any day is read as its month), ``agency`` (text) and
    ``entries`` (whole number >= 0); repeated (month, agency) rows are added up. Months without
    entries between the first and the last get 0. An empty frame gives no months and no series.
    Raises ``ValueError`` for a missing column, a null, a negative count or ``top < 1``.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    missing = [name for name in ("month", "agency", "entries") if name not in frame.columns]
    if missing:
        raise ValueError(f"entries frame lacks column(s): {', '.join(missing)}")
    frame = frame.select("month", "agency", "entries")
    for name in frame.columns:
        nulls = frame.get_column(name).null_count()
        if nulls:
            raise ValueError(f"column {name} has {nulls} empty value(s)")
    if frame.height == 0:
        return EntriesOverTime(months=(), series=(), agencies=0, total=0)
    if not frame.schema["month"].is_temporal():
        raise ValueError(f"column month must hold dates, not {frame.schema['month']}")
    if not frame.schema["entries"].is_integer():
        raise ValueError(f"column entries must hold whole numbers, not {frame.schema['entries']}")
    if frame.get_column("entries").min() < 0:  # type: ignore[operator]
        raise ValueError("column entries has a negative count")

    frame = frame.with_columns(
        pl.col("month").cast(pl.Date).dt.truncate("1mo"),
        pl.col("agency").cast(pl.String),
        pl.col("entries").cast(pl.Int64),
    )
    totals = (
        frame.group_by("agency")
        .agg(pl.col("entries").sum().alias("total"))
        .sort(["total", "agency"], descending=[True, False])
    )
    leaders: list[str] = totals.get_column("agency").head(top).to_list()
    rest = totals.height - len(leaders)
    other = f"other ({rest} {'agency' if rest == 1 else 'agencies'})"
    labelled = frame.with_columns(
        pl.when(pl.col("agency").is_in(leaders))
        .then(pl.col("agency"))
        .otherwise(pl.lit(other))
        .alias("label")
    )
    per_month = labelled.group_by("month", "label").agg(pl.col("entries").sum())
    cells = {
        (row["month"], row["label"]): row["entries"] for row in per_month.iter_rows(named=True)
    }
    months = _months_between(
        frame.get_column("month").min(),  # type: ignore[arg-type]
        frame.get_column("month").max(),  # type: ignore[arg-type]
    )
    labels = leaders + ([other] if rest else [])
    series = tuple(
        (label, tuple(cells.get((month, label), 0) for month in months)) for label in labels
    )
    return EntriesOverTime(
        months=tuple(months),
        series=series,
        agencies=totals.height,
        total=int(frame.get_column("entries").sum()),
        other=other if rest else None,
    )


# --- drawing ----------------------------------------------------------------------------------


@contextmanager
def _style(*texts: str | None) -> Iterator[None]:
    """rcParams for one plot: a CJK fallback font when a label needs one, quiet about glyphs."""
    families = [_LATIN_FAMILY]
    if has_cjk(*texts):
        font = find_cjk_font()  # logs once when there is none
        if font is not None:
            known = {entry.name for entry in font_manager.fontManager.ttflist}
            if font.family not in known:
                # matplotlib's font cache predates the font's installation.
                font_manager.fontManager.addfont(str(font.file))
            families.append(font.family)
    params: dict[str, Any] = {
        # A list of families, not "sans-serif": matplotlib falls back glyph by glyph only along
        # the font.family list itself.
        "font.family": families,
        "axes.titlesize": 13,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "svg.hashsalt": "socialcredit",
    }
    with _LOCK, matplotlib.rc_context(params), warnings.catch_warnings():  # type: ignore[arg-type]
        # Without a CJK font matplotlib warns once per missing glyph; find_cjk_font has said
        # what to install, once.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


def _save(figure: Figure, path: Path, *, title: str, description: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(
        path,
        format="png",
        dpi=_DPI,
        metadata={"Software": None, "Title": title, "Description": description},
    )
    return path


def _thousands(value: float, _position: int) -> str:
    return f"{value:,.0f}"


def plot_grade_distribution(
    counts: Mapping[str, int],
    grades: Sequence[str],
    path: Path,
    *,
    blacklisted: int | None = None,
    title: str | None = None,
) -> Path:
    """A bar chart of people per grade, best to worst, each bar labelled with count and share.

    ``grades`` is the catalogue's order; grades missing from ``counts`` are drawn at 0.
    ``blacklisted`` (people on the blacklist, who also hold a grade) goes in the subtitle.
    Writes a PNG to ``path`` and returns it; ``ValueError`` as ``grade_distribution_bars``, or
    for a negative ``blacklisted`` or one larger than the number of people.
    """
    bars = grade_distribution_bars(counts, grades)
    total = sum(bar.count for bar in bars)
    if blacklisted is not None and not 0 <= blacklisted <= total:
        raise ValueError(f"blacklisted must be between 0 and {total} people, got {blacklisted}")
    title = title or "Residents by grade"
    subtitle = f"{total:,} {'resident' if total == 1 else 'residents'}"
    if blacklisted is not None:
        share = f" ({blacklisted / total:.1%})" if total else ""
        subtitle += f"  ·  on the blacklist: {blacklisted:,}{share}"
    description = "; ".join(f"{bar.grade}: {bar.count} ({bar.share:.1%})" for bar in bars)
    if blacklisted is not None:
        description += f"; blacklisted: {blacklisted}"

    with _style(title, *grades):
        figure = Figure(figsize=(8, 4.8), layout="constrained")
        axes = figure.add_subplot()
        steps = max(len(bars) - 1, 1)
        colours = [_GRADE_COLOURS(0.1 + 0.8 * index / steps) for index in range(len(bars))]
        positions = range(len(bars))
        drawn = axes.bar(
            positions,
            [bar.count for bar in bars],
            color=colours,
            edgecolor="#333333",
            linewidth=0.6,
            width=0.7,
        )
        axes.bar_label(
            drawn,
            labels=[f"{bar.count:,}\n{bar.share:.1%}" for bar in bars],
            padding=3,
            fontsize=9,
        )
        axes.set_xticks(list(positions), [bar.grade for bar in bars])
        highest = max((bar.count for bar in bars), default=0)
        axes.set_ylim(0, highest * 1.2 if highest else 1)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.set_xlabel("Grade (best to worst)")
        axes.set_ylabel("Residents")
        figure.suptitle(title, fontsize=14, fontweight="bold")
        axes.set_title(subtitle, fontsize=10, color="#444444")
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        return _save(figure, path, title=title, description=description)


def plot_entries_over_time(frame: pl.DataFrame, path: Path, *, top: int = 10) -> Path:
    """Stacked bars of entries per month: the ``top`` reporting agencies and "other".

    ``frame`` as ``entries_over_time_series`` takes it. An empty frame gives a valid, labelled
    plot that says there are no entries. Writes a PNG to ``path`` and returns it.
    """
    data = entries_over_time_series(frame, top=top)
    title = "Entries per month by reporting agency"
    if data.months:
        first, last = data.months[0], data.months[-1]
        shown = len(data.series) - (1 if data.other else 0)
        subtitle = (
            f"{data.total:,} entries, {first:%Y-%m} to {last:%Y-%m}; "
            f"top {shown} of {data.agencies} {'agency' if data.agencies == 1 else 'agencies'}"
        )
    else:
        subtitle = "no entries"
    description = subtitle + "".join(f"; {label}: {sum(values)}" for label, values in data.series)

    with _style(*data.labels):
        figure = Figure(figsize=(10, 5.2), layout="constrained")
        axes = figure.add_subplot()
        if data.months:
            x = [float(date2num(month)) for month in data.months]  # type: ignore[no-untyped-call]
            bottom = [0] * len(x)
            for index, (label, values) in enumerate(data.series):
                is_other = label == data.other
                axes.bar(
                    x,
                    values,
                    bottom=bottom,
                    width=24,  # days: a gap between months
                    align="edge",
                    color=(
                        _OTHER_COLOUR if is_other else _AGENCY_COLOURS[index % len(_AGENCY_COLOURS)]
                    ),
                    label=label,
                    linewidth=0,
                )
                bottom = [below + value for below, value in zip(bottom, values, strict=True)]
            axes.xaxis_date()
            locator = AutoDateLocator(minticks=3, maxticks=12)  # type: ignore[no-untyped-call]
            axes.xaxis.set_major_locator(locator)
            axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
            handles, labels = axes.get_legend_handles_labels()
            # Legend top to bottom as the stack reads, top to bottom.
            axes.legend(
                handles[::-1],
                labels[::-1],
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=8,
                frameon=False,
                title="Agency",
                title_fontsize=9,
            )
            axes.set_ylim(0, max(bottom) * 1.08 if max(bottom) else 1)
        else:
            axes.text(
                0.5,
                0.5,
                "No entries in this period",
                transform=axes.transAxes,
                ha="center",
                va="center",
                fontsize=12,
                color="#666666",
            )
            axes.set_xticks([])
            axes.set_yticks([])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.set_xlabel("Month")
        axes.set_ylabel("Entries per month")
        figure.suptitle(title, fontsize=14, fontweight="bold")
        axes.set_title(subtitle, fontsize=10, color="#444444")
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        return _save(figure, path, title=title, description=description)
