"""PDF statements and plots (DESIGN section 5, ``reports/``).

Submodules load WeasyPrint and matplotlib, which are slow to import, so the names below are
loaded on first use: ``from socialcredit.reports import render_statement_pdf`` costs nothing
until it is called for.
"""

from importlib import import_module
from typing import Any

__all__ = [
    "GradeBar",
    "find_cjk_font",
    "grade_distribution_bars",
    "entries_over_time_series",
    "plot_entries_over_time",
    "plot_grade_distribution",
    "render_statement_pdf",
    "statement_html",
]

_HOMES = {
    "find_cjk_font": "socialcredit.reports.fonts",
    "render_statement_pdf": "socialcredit.reports.pdf",
    "statement_html": "socialcredit.reports.pdf",
    "GradeBar": "socialcredit.reports.plots",
    "grade_distribution_bars": "socialcredit.reports.plots",
    "entries_over_time_series": "socialcredit.reports.plots",
    "plot_entries_over_time": "socialcredit.reports.plots",
    "plot_grade_distribution": "socialcredit.reports.plots",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
