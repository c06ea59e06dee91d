"""The registry commands: thin wrappers that call one service each and print its answer."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli.common import (
    AsOf,
    Db,
    Json,
    KnownAt,
    cli_actor,
    command,
    emit,
    err,
    open_registry,
    out,
    parse_as_of,
    parse_known_at,
    progress_bar,
    shown_url,
)
from socialcredit.services import catalogue as catalogue_service
from socialcredit.services import keys, standing
from socialcredit.services.access import list_access
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.population import DEFAULT_SPARK_MASTER, export_scores
from socialcredit.services.standing import OFFICE_ENQUIRY

__all__ = ["catalogue_app", "events_app", "people_app", "register", "scores_app"]

catalogue_app = typer.Typer(help="Validate and load catalogue versions.", no_args_is_help=True)
people_app = typer.Typer(help="Register people and update their details.", no_args_is_help=True)
events_app = typer.Typer(help="Import events reported by agencies.", no_args_is_help=True)
scores_app = typer.Typer(help="Scores of the whole population.", no_args_is_help=True)

Purpose = Annotated[
    str,
    typer.Option(
        "--purpose", help="Why the record is read; the person sees it in their access log."
    ),
]
Rejects = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Where to write rejected rows (default: NAME.rejects.csv next to the "
        "input); .csv, .jsonl or .parquet.",
    ),
]
Encoding = Annotated[
    str, typer.Option("--encoding", help="Text encoding of CSV/JSONL input, e.g. gb18030.")
]


class ScoringEngine(StrEnum):
    """Where ``scores export`` aggregates (services.population.ENGINES)."""

    sql = "sql"
    spark = "spark"


InputPath = Annotated[
    Path, typer.Argument(help="CSV, JSON Lines or Parquet file.", show_default=False)
]


def init(
    catalogue: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalogue",
            help="Catalogue YAML to load (repeatable); default: the bundled "
            "Rongcheng reference catalogue when the registry has none.",
        ),
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Create or migrate the database and load catalogues."""
    registry = open_registry(db, setting_up=True)
    results = catalogue_service.init_registry(registry, list(catalogue or []))
    key, _private = keys.signing_key(registry)  # the office's key: outside the database
    document = {
        "database": shown_url(registry),
        "catalogues": [r.as_dict() for r in results],
        "signing_key": {"key_id": key.key_id, "key_dir": str(keys.key_directory(registry))},
    }

    def human() -> None:
        out.print(f"registry ready at {shown_url(registry)}")
        out.print(f"signing key {key.key_id} in {keys.key_directory(registry)}")
        for result in results:
            out.print(
                f"catalogue {result.version} (from {result.effective_from}): "
                f"{result.status}, {result.rules} rules, {result.agencies} agencies"
            )

    emit(json_output, document, human)


@catalogue_app.command("load")
@command
def catalogue_load(path: InputPath, db: Db = None, json_output: Json = False) -> None:
    """Validate a catalogue YAML file and load it as a new version."""
    registry = open_registry(db)
    result = catalogue_service.load_catalogue(registry, path)
    emit(
        json_output,
        result.as_dict(),
        lambda: out.print(
            f"catalogue {result.version} (from {result.effective_from}): {result.status}, "
            f"{result.rules} rules, {result.agencies} agencies, {result.policies} policies"
        ),
    )


@catalogue_app.command("check")
@command
def catalogue_check(path: InputPath, json_output: Json = False) -> None:
    """Validate a catalogue YAML file without loading it."""
    parsed = catalogue_service.read_catalogue_file(path)
    document = {
        "version": parsed.version,
        "effective_from": parsed.effective_from.isoformat(),
        "rules": len(parsed.rules),
        "agencies": len(parsed.agencies),
        "policies": len(parsed.policies),
        "valid": True,
    }
    emit(
        json_output,
        document,
        lambda: out.print(f"{path}: valid catalogue {parsed.version}, {len(parsed.rules)} rules"),
    )


def _print_counts(title: str, counts: dict[str, object]) -> None:
    out.print(title)
    for key, value in counts.items():
        if key != "reasons":
            out.print(f"  {key:>12}: {value}")
    reasons = counts.get("reasons") or {}
    for reason, count in reasons.items():  # type: ignore[attr-defined]
        out.print(f"  {'':>12}  {count} {reason}")


@people_app.command("import")
@command
def people_import(
    path: InputPath,
    rejects: Rejects = None,
    encoding: Encoding = "utf-8",
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Add new people and update known ones; invalid rows go to the rejects file."""
    registry = open_registry(db)
    with progress_bar("people") as update:
        result = import_people(
            registry, path, rejects_path=rejects, encoding=encoding, progress=update
        )
    document = {key: value for key, value in result.as_dict().items()}
    emit(json_output, document, lambda: _print_counts(f"people from {path}", document))


@events_app.command("import")
@command
def events_import(
    path: InputPath,
    rejects: Rejects = None,
    encoding: Encoding = "utf-8",
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Import events: each row is accepted, a duplicate, or rejected with a reason."""
    registry = open_registry(db)
    with progress_bar("events") as update:
        result = import_events(
            registry, path, rejects_path=rejects, encoding=encoding, progress=update
        )
    document = result.as_dict()
    emit(json_output, document, lambda: _print_counts(f"events from {path}", document))


@scores_app.command("export")
@command
def scores_export(
    path: Annotated[Path, typer.Argument(help="Output .csv, .jsonl or .parquet.")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    engine: Annotated[
        ScoringEngine,
        typer.Option(
            "--engine",
            help="Where the aggregation runs: sql = in the database; spark = on Apache Spark, "
            "for when one machine is not enough (needs pyspark and Java 17+). Same answers.",
        ),
    ] = ScoringEngine.sql,
    spark_master: Annotated[
        str,
        typer.Option(
            "--spark-master",
            metavar="URL",
            help="Spark master for --engine spark, e.g. local[4] or spark://HOST:7077.",
        ),
    ] = DEFAULT_SPARK_MASTER,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Write id, score, grade, blacklisted for every registered person, ordered by id."""
    registry = open_registry(db)
    with progress_bar("scoring", total=None):
        result = export_scores(
            registry,
            path,
            as_of=parse_as_of(as_of),
            known_at=parse_known_at(registry, known_at),
            actor=cli_actor(),
            engine="spark" if engine is ScoringEngine.spark else "sql",
            spark_master=spark_master,
        )
    emit(
        json_output,
        result,
        lambda: out.print(f"{result['people']} scores as of {result['as_of']} written to {path}"),
    )


@command
def score(
    person_id: Annotated[str, typer.Argument(help="18-character resident ID.")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    purpose: Purpose = OFFICE_ENQUIRY,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Score, grade and blacklist of one person (the read is logged for the person)."""
    registry = open_registry(db)
    result = standing.score(
        registry,
        person_id,
        as_of=parse_as_of(as_of),
        known_at=parse_known_at(registry, known_at),
        actor=cli_actor(),
        purpose=purpose,
    )
    document = result.as_dict()
    emit(
        json_output,
        document,
        lambda: out.print(
            f"{result.id}  {result.score} points  grade {result.grade}  "
            f"{'BLACKLISTED' if result.blacklisted else 'not blacklisted'}  "
            f"(as of {result.as_of}, catalogue {result.catalogue_version})"
        ),
    )


def _print_statement(document: dict[str, object]) -> None:
    out.print(f"[bold]{document['name']}[/bold]  {document['id']}  {document['district']}")
    listed = "BLACKLISTED" if document["blacklisted"] else "not blacklisted"
    out.print(
        f"as of {document['as_of']}: {document['score']} points, grade "
        f"{document['grade']}, {listed}"
        f" (base {document['base_score']}, catalogue {document['catalogue_version']})"
    )
    table = Table("occurred", "agency", "rule", "points", "counts until", "status", "why")
    for entry in document["entries"]:  # type: ignore[attr-defined]
        table.add_row(
            entry["occurred_on"],
            entry["agency"],
            f"{entry['rule']} {entry['title']}",
            f"{entry['points']:+d}",
            entry["counts_until"],
            entry["status"],
            entry["why"],
        )
    out.print(table)


@command
def statement(
    person_id: Annotated[str, typer.Argument(help="18-character resident ID.")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write a signed PDF.")] = None,
    purpose: Purpose = OFFICE_ENQUIRY,
    minimal: Annotated[
        bool, typer.Option("--minimal", help="For a verifier: only the grade and --policy.")
    ] = False,
    policy: Annotated[
        str | None, typer.Option("--policy", help="The policy a --minimal statement answers.")
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Every entry behind a person's score, and why each counts or not (logged)."""
    registry = open_registry(db)
    if minimal:  # a verifier's statement: signed_statements, cli/statements.py
        from socialcredit.cli.statements import issue_minimal

        issue_minimal(registry, person_id, policy, as_of, purpose, pdf, json_output)
        return
    result = standing.statement(
        registry,
        person_id,
        as_of=parse_as_of(as_of),
        known_at=parse_known_at(registry, known_at),
        actor=cli_actor(),
        purpose=purpose,
    )
    if pdf is not None:
        from socialcredit.reports.pdf import render_statement_pdf
        from socialcredit.services.signed_statements import sign_statement

        render_statement_pdf(result, pdf, sign_statement(registry, result))
        err.print(f"PDF statement written to {pdf}")
    emit(json_output, result.as_dict(), lambda: _print_statement(result.as_dict()))


@command
def check(
    person_id: Annotated[str, typer.Argument(help="18-character resident ID.")],
    policy: Annotated[str, typer.Argument(help="Policy code, e.g. civil-service-promotion.")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    purpose: Purpose = OFFICE_ENQUIRY,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Is the person eligible under a policy? Yes or no, with the unmet requirements."""
    registry = open_registry(db)
    result = standing.check(
        registry,
        person_id,
        policy,
        purpose=purpose,
        as_of=parse_as_of(as_of),
        known_at=parse_known_at(registry, known_at),
        actor=cli_actor(),
    )
    document = {
        "eligible": result.eligible,
        "reasons": list(result.reasons),
        **{k: v for k, v in result.as_dict().items() if k not in ("eligible", "reasons")},
    }

    def human() -> None:
        answer = "ELIGIBLE" if result.eligible else "NOT ELIGIBLE"
        out.print(f"{result.id} {result.policy}: {answer}")
        for reason in result.reasons:
            out.print(
                f"  {reason['requirement']}: wanted {reason['wanted']}, actual {reason['actual']}"
            )

    emit(json_output, document, human)


@command
def access_log(
    person_id: Annotated[str, typer.Argument(help="18-character resident ID.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 1000,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Everyone who read a person's record: who, in which role, when and for what purpose."""
    registry = open_registry(db)
    person = standing.registered_person_id(registry, person_id)
    rows = [record.as_dict() for _id, record in list_access(registry, person, limit=limit)]

    def human() -> None:
        table = Table("when", "who", "role", "organisation", "action", "purpose")
        for row in rows:
            table.add_row(
                row["recorded_at"],
                row["actor"],
                row["role"],
                row["organisation"] or "",
                row["action"],
                row["purpose"],
            )
        out.print(table)

    emit(json_output, {"id": person, "access": rows}, human)


def register(app: typer.Typer) -> None:
    app.command("access-log")(access_log)
    app.command("init")(command(init))
    app.add_typer(catalogue_app, name="catalogue")
    app.add_typer(people_app, name="people")
    app.add_typer(events_app, name="events")
    app.add_typer(scores_app, name="scores")
    app.command("score")(score)
    # `statement` is a group (cli/statements.py): `statement ID` runs this, `statement verify`.
    app.command("check")(check)
