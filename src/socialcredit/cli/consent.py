"""``socialcredit consent grant|revoke|list``: a person's consents to be checked by verifiers."""

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, cli_actor, command, emit, open_registry, out
from socialcredit.services import consent as consent_service
from socialcredit.services.consent import ConsentChange
from socialcredit.services.standing import OFFICE_ENQUIRY, registered_person_id

__all__ = ["consent_app"]

consent_app = typer.Typer(
    help="Consents: which organisation may check a person, and for which purpose.",
    no_args_is_help=True,
)
app.add_typer(consent_app, name="consent")

PersonId = Annotated[str, typer.Argument(help="18-character resident ID.", show_default=False)]
Organisation = Annotated[
    str,
    typer.Argument(
        help="The verifier's organisation, exactly as on its account.", show_default=False
    ),
]
Purpose = Annotated[
    str, typer.Argument(help="The purpose the check is for, e.g. 'loan application'.")
]


def _print_change(change: ConsentChange) -> None:
    verb = "granted" if change.action == "grant" else "revoked"
    if change.status == "unchanged":
        out.print(
            f"{change.person_id}: consent for {change.organisation!r} / "
            f"{change.purpose!r} was already {verb}; nothing changed"
        )
    else:
        out.print(
            f"{change.person_id}: consent for {change.organisation!r} / {change.purpose!r} {verb}"
        )


@consent_app.command("grant")
@command
def grant(
    person_id: PersonId,
    organisation: Organisation,
    purpose: Purpose,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Record that the person lets ORGANISATION check them for PURPOSE (a signed form)."""
    registry = open_registry(db)
    change = consent_service.grant_consent(registry, person_id, organisation, purpose, cli_actor())
    emit(json_output, change.as_dict(), lambda: _print_change(change))


@consent_app.command("revoke")
@command
def revoke(
    person_id: PersonId,
    organisation: Organisation,
    purpose: Purpose,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Record that the person withdraws a consent; later checks for it are refused."""
    registry = open_registry(db)
    change = consent_service.revoke_consent(registry, person_id, organisation, purpose, cli_actor())
    emit(json_output, change.as_dict(), lambda: _print_change(change))


@consent_app.command("list")
@command
def list_(
    person_id: PersonId,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why the consents are read (logged).")
    ] = OFFICE_ENQUIRY,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Every organisation and purpose the person consented to, granted or revoked."""
    registry = open_registry(db)
    person = registered_person_id(registry, person_id)
    rows = [
        c.as_dict()
        for c in consent_service.list_consents(registry, person, actor=cli_actor(), purpose=purpose)
    ]

    def human() -> None:
        if not rows:
            out.print(f"{person}: no consents recorded")
            return
        table = Table("organisation", "purpose", "state", "since", "recorded by")
        for row in rows:
            table.add_row(
                row["organisation"], row["purpose"], row["state"], row["since"], row["actor"]
            )
        out.print(table)

    emit(json_output, {"id": person, "consents": rows}, human)
