"""``socialcredit checkpoint``, ``proof inclusion|consistency`` and ``verify``: the tamper-evident
log from the command line (docs/ledger.md). Importing this module also registers ``keys ...``
and the ``statement`` group (``statement ID`` and ``statement verify FILE.pdf``)."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, command, emit, err, open_registry, out
from socialcredit.domain.errors import RefusedError
from socialcredit.services import ledger
from socialcredit.services.ledger_verify import verify_registry

__all__ = ["proof_app"]

proof_app = typer.Typer(
    help="Proofs against signed checkpoints: an entry is in the log, the log only grew.",
    no_args_is_help=True,
)
app.add_typer(proof_app, name="proof")


def _checkpoint_line(checkpoint: ledger.Checkpoint) -> str:
    return (
        f"checkpoint {checkpoint.id}: {checkpoint.size} leaves, root {checkpoint.root.hex()}, "
        f"signed {checkpoint.fields['signed_at']} with key {checkpoint.key_id}"
    )


@app.command("checkpoint")
@command
def checkpoint(
    export: Annotated[
        Path | None,
        typer.Option("--export", metavar="FILE", help="Also write it to FILE for a witness."),
    ] = None,
    list_them: Annotated[
        bool, typer.Option("--list", help="List the latest checkpoints instead.")
    ] = False,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Sign the log's head (size, root, time) with the office's key and keep it."""
    registry = open_registry(db)
    if list_them:
        kept = ledger.list_checkpoints(registry)
        emit(
            json_output,
            {"checkpoints": [c.as_dict() for c in kept]},
            lambda: [out.print(_checkpoint_line(c)) for c in kept],
        )
        return
    made = ledger.create_checkpoint(registry)
    if export is not None:
        ledger.export_checkpoint(registry, made, export.expanduser())
        err.print(f"checkpoint {made.id} exported to {export} (give it to a witness)")
    emit(json_output, made.as_dict(), lambda: out.print(_checkpoint_line(made)))


def _refuse_invalid(problems: tuple[str, ...], what: str) -> None:
    if problems:
        raise RefusedError(f"{what} does not verify: {'; '.join(problems)}", code="not-verified")


@proof_app.command("inclusion")
@command
def inclusion(
    agency: Annotated[str, typer.Argument(help="The reporting agency's code.")],
    event_id: Annotated[str, typer.Argument(help="The agency's event ID.")],
    checkpoint_id: Annotated[
        int | None, typer.Option("--checkpoint", metavar="N", help="Default: the latest.")
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Prove that an entry is a leaf of the tree a signed checkpoint covers."""
    registry = open_registry(db)
    proof = ledger.entry_inclusion(registry, agency, event_id, checkpoint_id)

    def human() -> None:
        out.print(
            f"entry {agency} {event_id}: leaf {proof.leaf_index}, hash {proof.leaf_hash.hex()}"
        )
        out.print(f"leaf data: {proof.leaf_data}", markup=False)
        for level, node in enumerate(proof.path):
            out.print(f"  path[{level}] {node.hex()}")
        out.print(_checkpoint_line(proof.checkpoint))
        out.print("verified: the entry is in the signed log, as recorded")

    if proof.valid:
        emit(json_output, proof.as_dict(), human)
    _refuse_invalid(proof.problems, f"the inclusion proof of {agency} {event_id}")


@proof_app.command("consistency")
@command
def consistency(
    old: Annotated[int, typer.Argument(help="The older checkpoint's number.")],
    new: Annotated[int, typer.Argument(help="The newer checkpoint's number.")],
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Prove that the log at checkpoint NEW extends the log at checkpoint OLD."""
    registry = open_registry(db)
    proof = ledger.consistency(registry, old, new)

    def human() -> None:
        out.print(_checkpoint_line(proof.old))
        out.print(_checkpoint_line(proof.new))
        for level, node in enumerate(proof.path):
            out.print(f"  path[{level}] {node.hex()}")
        out.print("verified: the newer log extends the older one; nothing was changed or removed")

    if proof.valid:
        emit(json_output, proof.as_dict(), human)
    _refuse_invalid(proof.problems, f"the consistency proof {old} -> {new}")


def _print_report(report: dict[str, Any]) -> None:
    records = ", ".join(f"{n} {kind}" for kind, n in report["records"].items())
    out.print(f"log: {report['size']} leaves, root {report['root']}")
    out.print(
        f"records checked: {records}" + (f"; {report['purged']} purged" if report["purged"] else "")
    )
    if report["findings"]:
        table = Table("problem", "table", "record", "what")
        for finding in report["findings"]:
            table.add_row(
                finding["problem"], finding["table"], finding["key"] or "", finding["message"]
            )
        out.print(table)
    checkpoint = report["checkpoint"]
    if checkpoint is None:
        out.print("no signed checkpoint yet: nothing is covered by a signature")
    else:
        size, signed = checkpoint["size"], checkpoint["signed_at"]
        out.print(f"latest checkpoint {checkpoint['id']}: {size} leaves, signed {signed}")
    if report["uncovered"]:
        out.print(
            f"{report['uncovered']} writes after the last checkpoint are not yet covered by a "
            "signature (make one with `socialcredit checkpoint`)"
        )
    if report["witness"] is not None:
        state = "consistent" if report["witness"]["consistent"] else "NOT consistent"
        out.print(f"witness checkpoint ({report['witness']['size']} leaves): {state}")
    counts = ", ".join(f"{n} {problem}" for problem, n in report["problems"].items())
    out.print("OK: every record matches the log" if report["ok"] else f"NOT OK: {counts}")


@app.command("verify")
@command
def verify(
    witness: Annotated[
        Path | None,
        typer.Option("--witness", metavar="FILE", help="A checkpoint a witness kept."),
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Check every record against its leaf, the tree against the signed checkpoints (and a
    witness's checkpoint). Exit 0 only when everything matches."""
    registry = open_registry(db)
    report = verify_registry(registry, witness.expanduser() if witness else None)
    document = report.as_dict()
    emit(json_output, document, lambda: _print_report(document))
    if not report.ok:
        raise typer.Exit(1)


from socialcredit.cli import keys as _keys  # noqa: E402,F401  (`keys ...`)
from socialcredit.cli import statements as _statements  # noqa: E402,F401  (`statement ...`)
