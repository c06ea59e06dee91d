"""The main job: a synthetic Rongcheng imported through the agencies' own path, then reported.

``run_demo`` builds the town, writes the people and events files an agency would send, imports
them with the same services the CLI uses, scores the population and writes a PDF statement
and a PNG plot. It works in its own SQLite file inside ``out_dir``, never the registry's.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from socialcredit.services import standing
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.imports import Progress
from socialcredit.services.models import EventImportResult, PeopleImportResult, Statement
from socialcredit.services.people import import_people
from socialcredit.services.population import Distribution, grade_distribution, population_scores
from socialcredit.services.registry import Registry
from socialcredit.services.signed_statements import sign_statement
from socialcredit.settings import Settings

__all__ = ["DEMO_DATABASE", "DemoResult", "run_demo"]

DEMO_DATABASE = "socialcredit-demo.db"

# Called with a step's name; returns the progress callback for that step.
StepProgress = Callable[[str], Progress]


@dataclass
class DemoResult:
    out_dir: Path
    database_url: str
    people: PeopleImportResult
    events: EventImportResult
    noise: dict[str, int]
    distribution: Distribution
    zhang_jian: Statement
    other: Statement
    zhang_jian_promotion: dict[str, Any]
    pdf_path: Path
    plot_path: Path
    timings_s: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "database": self.database_url,
            "people": self.people.as_dict(),
            "events": self.events.as_dict(),
            "noise": self.noise,
            "distribution": self.distribution.as_dict(),
            "statements": [self.zhang_jian.as_dict(), self.other.as_dict()],
            "zhang_jian_promotion": self.zhang_jian_promotion,
            "pdf": str(self.pdf_path),
            "plot": str(self.plot_path),
            "timings_s": {k: round(v, 2) for k, v in self.timings_s.items()},
        }


def _fresh_database(out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (out_dir / f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{(out_dir / DEMO_DATABASE).resolve()}"


def _interesting_person(scores: pl.DataFrame, zhang_jian_id: str) -> str:
    """A second example: blacklisted or capped if anyone is, else the lowest score."""
    others = scores.filter(pl.col("id") != zhang_jian_id)
    pick = others.filter(pl.col("blacklisted") & (pl.col("grade") != "D"))
    if pick.height == 0:
        pick = others
    return str(pick.sort("score", "id").row(0, named=True)["id"])


def run_demo(
    out_dir: Path,
    *,
    people_count: int,
    seed: int,
    settings: Settings,
    step: StepProgress,
    timer: Callable[[str], Any],
) -> DemoResult:
    """Build, import, score and report the demo town; ``timer(name)`` times each step."""
    from socialcredit.reports.pdf import render_statement_pdf
    from socialcredit.reports.plots import plot_grade_distribution
    from socialcredit.sim.town import build_town

    url = _fresh_database(out_dir)
    registry = Registry.open(url, settings)
    timings: dict[str, float] = {}
    with timer("set up the registry") as done:
        init_registry(registry, [])
    timings["init"] = done()
    today = registry.clock.today()
    with timer("build the synthetic town") as done:
        town = build_town(
            registry.in_force(today), people_count=people_count, seed=seed, today=today
        )
        people_path, events_path = out_dir / "people.parquet", out_dir / "events.parquet"
        town.people.write_parquet(people_path)
        town.events.with_columns(pl.col("occurred_on").cast(pl.String)).write_parquet(events_path)
    timings["town"] = done()
    with timer("import people") as done:
        people = import_people(
            registry,
            people_path,
            progress=step("people"),
            rejects_path=out_dir / "people.rejects.csv",
        )
    timings["people"] = done()
    with timer("import events") as done:
        events = import_events(
            registry,
            events_path,
            progress=step("events"),
            rejects_path=out_dir / "events.rejects.csv",
        )
    timings["events"] = done()
    with timer("score the population") as done:
        scores = population_scores(registry, as_of=today)
        distribution = grade_distribution(registry, as_of=today, scores=scores)
    timings["score"] = done()
    with timer("statements, PDF and plot") as done:
        zhang_jian = standing.statement(registry, town.zhang_jian_id, as_of=today)
        other = standing.statement(
            registry, _interesting_person(scores, town.zhang_jian_id), as_of=today
        )
        promotion = standing.check(
            registry,
            town.zhang_jian_id,
            "civil-service-promotion",
            purpose="promotion in the forestry bureau",
            as_of=today,
        )
        pdf_path = render_statement_pdf(
            zhang_jian,
            out_dir / "statement-zhang-jian.pdf",
            sign_statement(registry, zhang_jian),  # signed: `socialcredit statement verify`
        )
        plot_path = plot_grade_distribution(
            distribution.grades,
            list(distribution.grades),
            out_dir / "grades.png",
            blacklisted=distribution.blacklisted,
            title=f"Grades of {distribution.people:,} residents on {today.isoformat()}",
        )
    timings["report"] = done()
    registry.close()
    return DemoResult(
        out_dir,
        url,
        people,
        events,
        town.noise,
        distribution,
        zhang_jian,
        other,
        promotion.as_dict(),
        pdf_path,
        Path(str(plot_path)),
        timings,
    )
