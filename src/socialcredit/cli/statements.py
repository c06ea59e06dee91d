"""``socialcredit statement``: ``statement ID ...`` issues a statement (``cli/commands.py``),
``statement ID --minimal --policy P`` a verifier's minimal one, and ``statement verify FILE.pdf``
checks a signed statement: valid, who signed it, when, for whom; or refused with the reason."""

from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from socialcredit.cli import app, commands
from socialcredit.cli.common import (
    Db,
    Json,
    cli_actor,
    command,
    emit,
    err,
    open_registry,
    out,
    parse_as_of,
)
from socialcredit.domain.errors import InputError
from socialcredit.services import keys
from socialcredit.services.registry import Registry
from socialcredit.services.signed_statements import (
    check_token,
    minimal_statement,
    sign_minimal,
)

__all__ = ["issue_minimal", "statement_app"]


class _StatementGroup(TyperGroup):
    """Anything but a subcommand's name is a resident ID: ``statement ID`` means ``issue``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


statement_app = typer.Typer(
    cls=_StatementGroup,
    help="A person's statement (`statement ID`), or check a signed one (`statement verify`).",
    no_args_is_help=True,
)
app.add_typer(statement_app, name="statement")
statement_app.command("issue")(commands.statement)


def issue_minimal(
    registry: Registry,
    person_id: str,
    policy: str | None,
    as_of: str | None,
    purpose: str,
    pdf: Path | None,
    json_output: bool,
) -> None:
    """``statement ID --minimal --policy P``: the grade and one policy answer, signed."""
    if not policy:
        raise InputError("--minimal needs --policy: the question the verifier asks")
    minimal = minimal_statement(
        registry, person_id, policy, purpose=purpose, as_of=parse_as_of(as_of), actor=cli_actor()
    )
    signed = sign_minimal(registry, minimal)
    if pdf is not None:
        from socialcredit.reports.signed_pdf import render_minimal_pdf

        render_minimal_pdf(minimal, pdf, signed)
        err.print(f"PDF minimal statement written to {pdf}")
    document = {**minimal.as_dict(), "token": signed.token, "key_id": signed.document["key_id"]}

    def human() -> None:
        answer = "ELIGIBLE" if minimal.eligible else "NOT ELIGIBLE"
        out.print(f"{minimal.name} {minimal.id}: grade {minimal.grade}, {minimal.policy}: {answer}")
        out.print(f"signed token: {signed.token}", markup=False)

    emit(json_output, document, human)


def _print_check(document: dict[str, Any]) -> None:
    person = document.get("person") or {}
    if document["valid"]:
        out.print(
            f"VALID: signed by the office with key {document['signed_by']} at "
            f"{document['signed_at']}, for {person.get('name')} {person.get('id')}"
        )
        facts = ", ".join(f"{k} {v}" for k, v in (document.get("statement") or {}).items())
        out.print(facts)
    else:
        out.print("REFUSED: " + "; ".join(document["problems"]), markup=False)


@statement_app.command("verify")
@command
def verify(
    file: Annotated[Path | None, typer.Argument(metavar="FILE.pdf", show_default=False)] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="The text of a scanned QR code instead.")
    ] = None,
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys", metavar="FILE", help="Published public keys (keys export)."),
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Check a signed statement: exit 0 when valid, 1 (with the reasons) when refused."""
    if (file is None) == (token is None):
        raise InputError("give a PDF file or --token (the text of its QR code)")
    if keys_file is not None:
        keyring = keys.trusted_keys(keys_file.expanduser())
    else:
        keyring = keys.keyring(open_registry(db))
    if file is not None:
        from socialcredit.reports.signed_pdf import verify_statement_pdf

        if not file.is_file():
            raise InputError(f"{file}: no such file")
        document = verify_statement_pdf(file.expanduser(), keyring).as_dict()
    else:
        checked = check_token(token or "", keyring)
        summary = checked.summary
        document = {
            "valid": checked.valid,
            "problems": list(checked.problems),
            "kind": summary.get("kind"),
            "signed_by": summary.get("key_id"),
            "signed_at": summary.get("signed_at"),
            "person": {"id": summary.get("id"), "name": summary.get("name")},
            "statement": {
                k: summary[k]
                for k in ("as_of", "score", "grade", "blacklisted", "policy", "eligible")
                if k in summary
            },
        }
    emit(json_output, document, lambda: _print_check(document))
    if not document["valid"]:
        for problem in document["problems"]:
            err.print(f"refused: {problem}", markup=False)
        raise typer.Exit(1)
