"""Signed PDF statements: valid ones say who signed, when and for whom; every forgery is
refused with its reason (text, numbers, signature, QR code, key), by the service and the CLI."""

import base64
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from tests.conftest import (
    EVENTS_HEADER,
    LI_NA,
    PEOPLE_HEADER,
    ZHANG_JIAN,
    recent,
    shows_word,
    write_csv,
)
from tests.integration.cli_helpers import Run, runner

from socialcredit.reports import signature_block
from socialcredit.reports.pdf import render_statement_pdf
from socialcredit.reports.signed_pdf import render_minimal_pdf, verify_statement_pdf
from socialcredit.services import keys, ledger, standing
from socialcredit.services.access import list_access
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.services.signed_statements import (
    ATTACHMENT_NAME,
    SignedStatement,
    check_token,
    minimal_statement,
    sign_minimal,
    sign_statement,
)


def _populate(registry: Registry, folder: Path) -> None:
    import_people(
        registry,
        write_csv(
            folder / "people.csv",
            PEOPLE_HEADER,
            [f"{ZHANG_JIAN},张建,崖头街道,true", f"{LI_NA},李娜,城西街道,false"],
        ),
    )
    import_events(
        registry,
        write_csv(
            folder / "events.csv",
            EVENTS_HEADER,
            [
                f"traffic-police,T-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(30)},路口闯红灯",
                f"forestry-bureau,F-1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,{recent(20)},",
            ],
        ),
    )


@pytest.fixture
def office(make_registry: Callable[..., Registry], database_url: str, tmp_path: Path) -> Registry:
    registry = make_registry(database_url, key_dir=str(tmp_path / "keys"))
    _populate(registry, tmp_path)
    return registry


@pytest.fixture
def signed_pdf(office: Registry, tmp_path: Path) -> tuple[Path, SignedStatement]:
    statement = standing.statement(office, ZHANG_JIAN)
    signed = sign_statement(office, statement)
    return render_statement_pdf(statement, tmp_path / "zhang.pdf", signed), signed


def _with_attachment(source: Path, target: Path, data: bytes | None) -> Path:
    """``source`` with its signed statement replaced by ``data`` (or removed)."""
    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    if data is not None:
        writer.add_attachment(ATTACHMENT_NAME, data)
    with target.open("wb") as stream:
        writer.write(stream)
    return target


def _attachment(path: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads(PdfReader(path).attachments[ATTACHMENT_NAME][0])
    return data


def test_a_signed_statement_says_who_signed_when_and_for_whom(
    office: Registry, signed_pdf: tuple[Path, SignedStatement]
):
    path, signed = signed_pdf
    check = verify_statement_pdf(path, keys.keyring(office))
    assert check.valid, check.problems
    document = check.as_dict()
    assert document["signed_by"] == keys.signing_key(office)[0].key_id
    assert document["signed_at"] == "2026-11-27T04:00:00.000000Z"
    assert document["person"] == {"id": ZHANG_JIAN, "name": "张建"}
    assert document["statement"] == {
        "as_of": "2026-11-27",
        "score": 1015,
        "grade": "A+",
        "blacklisted": False,
    }
    assert document["entries"] == 2
    assert (document["text"], document["qr"]) == ("matches", "matches")
    # It was issued under a checkpoint that covers every entry it lists.
    checkpoint = signed.checkpoint
    assert ledger.checkpoint_problem(keys.keyring(office), checkpoint) is None
    for event_id in ("T-1", "F-1"):
        agency = "traffic-police" if event_id == "T-1" else "forestry-bureau"
        assert ledger.entry_inclusion(office, agency, event_id, checkpoint.id).valid
    # The content signed is the statement, entry by entry, with rule, agency, dates and points.
    content = signed.content
    assert [e["points"] for e in content["entries"]] == [-5, 20]
    assert {"rule", "agency", "occurred_on", "counts_until", "status"} <= set(content["entries"][0])


def test_printed_text_that_differs_from_the_signed_content_is_refused(
    office: Registry, signed_pdf: tuple[Path, SignedStatement], tmp_path: Path
):
    _, signed = signed_pdf
    statement = standing.statement(office, ZHANG_JIAN)
    forged = replace(statement, score=1050, grade="AAA", base_score=1035)
    path = render_statement_pdf(forged, tmp_path / "forged.pdf", signed)
    check = verify_statement_pdf(path, keys.keyring(office))
    assert check.text == "differs"
    [problem] = check.problems
    assert problem.startswith("the printed text differs from the signed content: printed")
    assert "1050" in problem.split("where")[0] and "1015" in problem.split("where")[1]


def test_numbers_changed_in_the_attached_statement_break_the_signature(
    office: Registry, signed_pdf: tuple[Path, SignedStatement], tmp_path: Path
):
    path, _ = signed_pdf
    attached = _attachment(path)
    attached["statement"] = attached["statement"].replace('"points":-5', '"points":-1')
    forged = _with_attachment(path, tmp_path / "numbers.pdf", json.dumps(attached).encode())
    check = verify_statement_pdf(forged, keys.keyring(office))
    key_id = keys.signing_key(office)[0].key_id
    assert f"the signature does not match the signed content (key {key_id})" in check.problems
    assert "the QR code does not vouch for this statement (its summary differs)" in check.problems


def test_an_altered_signature_is_refused(
    office: Registry, signed_pdf: tuple[Path, SignedStatement], tmp_path: Path
):
    path, _ = signed_pdf
    attached = _attachment(path)
    signature = bytearray(base64.b64decode(attached["signature"]))
    signature[10] ^= 0x40
    attached["signature"] = base64.b64encode(bytes(signature)).decode()
    forged = _with_attachment(path, tmp_path / "signature.pdf", json.dumps(attached).encode())
    check = verify_statement_pdf(forged, keys.keyring(office))
    key_id = keys.signing_key(office)[0].key_id
    assert check.problems == [f"the signature does not match the signed content (key {key_id})"]


def test_a_pdf_without_its_signed_statement_is_refused(
    office: Registry, signed_pdf: tuple[Path, SignedStatement], tmp_path: Path
):
    path, _ = signed_pdf
    stripped = _with_attachment(path, tmp_path / "stripped.pdf", None)
    check = verify_statement_pdf(stripped, keys.keyring(office))
    assert check.problems == [
        "no signed statement is attached: not a signed statement, or it was removed"
    ]


def test_another_qr_code_on_the_page_is_refused(
    office: Registry,
    signed_pdf: tuple[Path, SignedStatement],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    _, signed = signed_pdf
    other = sign_statement(office, standing.statement(office, LI_NA))
    real = signature_block.qr_png
    monkeypatch.setattr(signature_block, "qr_png", lambda token: real(other.token))
    path = render_statement_pdf(standing.statement(office, ZHANG_JIAN), tmp_path / "qr.pdf", signed)
    monkeypatch.setattr(signature_block, "qr_png", real)
    check = verify_statement_pdf(path, keys.keyring(office))
    assert check.problems == ["the QR code on the page is not the code of the signed statement"]
    assert check.text == "matches"


def test_a_statement_signed_after_its_key_was_revoked_is_refused(
    office: Registry, signed_pdf: tuple[Path, SignedStatement]
):
    path, signed = signed_pdf
    key_id = str(signed.document["key_id"])
    moment = signed.checkpoint.signed_at
    keys.revoke_key(office, key_id, moment.replace(year=2027))  # later: still valid
    assert verify_statement_pdf(path, keys.keyring(office)).valid
    keys.revoke_key(office, key_id, moment)  # compromised from the signing time on
    problems = verify_statement_pdf(path, keys.keyring(office)).problems
    revoked = f"key {key_id} was revoked at 2026-11-27T04:00:00.000000Z"
    assert any(p.startswith(revoked) for p in problems), problems
    assert any(p.startswith(f"QR code: {revoked}") for p in problems)
    assert any(p.startswith(f"the checkpoint it was issued under: {revoked}") for p in problems)


def test_a_statement_signed_before_a_rotation_stays_valid(
    office: Registry, signed_pdf: tuple[Path, SignedStatement]
):
    path, _ = signed_pdf
    keys.rotate_key(office)
    assert verify_statement_pdf(path, keys.keyring(office)).valid


def test_a_minimal_statement_holds_only_the_grade_and_the_answer(office: Registry, tmp_path: Path):
    minimal = minimal_statement(
        office, ZHANG_JIAN, "civil-service-promotion", purpose="promotion to section chief"
    )
    signed = sign_minimal(office, minimal)
    path = render_minimal_pdf(minimal, tmp_path / "minimal.pdf", signed)
    check = verify_statement_pdf(path, keys.keyring(office))
    assert check.valid, check.problems
    assert check.kind == "minimal"
    assert set(signed.content) == {
        "id",
        "name",
        "as_of",
        "grade",
        "policy",
        "policy_title",
        "eligible",
        "reasons",
        "purpose",
        "issued_at",
    }
    assert (signed.content["grade"], signed.content["eligible"]) == ("A+", True)
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert shows_word(text, "A+")  # the check below can see a word on this page
    assert not shows_word(text, "1015") and "TRAFFIC-RED-LIGHT" not in text  # no score, no record
    actions = [row.action for _, row in list_access(office, ZHANG_JIAN)]
    assert {"check", "score"} <= set(actions)  # the person sees the verifier's question


def test_the_qr_token_verifies_by_itself_and_refuses_a_forged_summary(
    office: Registry, signed_pdf: tuple[Path, SignedStatement]
):
    _, signed = signed_pdf
    keyring = keys.keyring(office)
    checked = check_token(signed.token, keyring)
    assert checked.valid and checked.summary["score"] == 1015
    assert checked.summary["statement_sha256"] == signed.sha256
    prefix, summary, signature = signed.token.split(".")
    data = json.loads(base64.urlsafe_b64decode(summary + "=" * (-len(summary) % 4)))
    data["score"] = 1050
    forged_summary = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    forged = check_token(".".join([prefix, forged_summary, signature]), keyring)
    assert forged.problems == (
        f"QR code: the signature does not match the signed content (key {data['key_id']})",
    )
    assert (
        check_token("hello", keyring).problems[0].startswith("the QR code is not a statement token")
    )


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def office_cli(
    make_registry: Callable[..., Registry],
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    monkeypatch.setenv("SOCIALCREDIT_NOW", "2026-11-27T12:00:00+08:00")
    registry = make_registry(sqlite_url)
    _populate(registry, tmp_path)
    return runner(capsys, sqlite_url)


def test_cli_issue_and_verify_a_signed_statement(office_cli: Callable[..., Run], tmp_path: Path):
    pdf = tmp_path / "statement.pdf"
    issued = office_cli("statement", ZHANG_JIAN, "--pdf", pdf, "--json")
    assert issued.code == 0 and issued.document["score"] == 1015  # the contract's shape
    valid = office_cli("statement", "verify", pdf, "--json")
    assert valid.code == 0, valid
    assert valid.document["valid"] and valid.document["person"]["id"] == ZHANG_JIAN
    human = office_cli("statement", "verify", pdf)
    assert human.out.startswith("VALID: signed by the office with key ")
    published = tmp_path / "keys.json"
    assert office_cli("keys", "export", published).code == 0
    outside = office_cli("statement", "verify", pdf, "--keys", published, "--json", db=False)
    assert outside.code == 0 and outside.document["valid"]
    token = _attachment(pdf)["token"]
    by_token = office_cli("statement", "verify", "--token", token, "--keys", published, db=False)
    assert by_token.code == 0 and "score 1015" in by_token.out


def test_cli_refuses_a_forged_statement_with_the_reason(
    office_cli: Callable[..., Run], tmp_path: Path
):
    pdf = tmp_path / "statement.pdf"
    office_cli("statement", ZHANG_JIAN, "--pdf", pdf)
    forged = _with_attachment(pdf, tmp_path / "forged.pdf", None)
    refused = office_cli("statement", "verify", forged, "--json")
    assert refused.code == 1
    assert refused.document["valid"] is False
    assert refused.document["problems"] == [
        "no signed statement is attached: not a signed statement, or it was removed"
    ]
    assert "refused: no signed statement is attached" in refused.err


def test_cli_minimal_statement(office_cli: Callable[..., Run], tmp_path: Path):
    pdf = tmp_path / "minimal.pdf"
    run = office_cli(
        "statement", ZHANG_JIAN, "--minimal", "--policy", "civil-service-promotion",
        "--purpose", "promotion", "--pdf", pdf, "--json",
    )  # fmt: skip
    assert run.code == 0, run
    assert run.document["grade"] == "A+" and run.document["eligible"] is True
    assert "score" not in run.document and "entries" not in run.document
    checked = office_cli("statement", "verify", pdf, "--json").document
    assert checked["valid"] and checked["kind"] == "minimal"
    missing = office_cli("statement", ZHANG_JIAN, "--minimal", "--json")
    assert missing.code == 2 and "needs --policy" in missing.document["error"]["message"]


def test_cli_init_makes_the_signing_key_outside_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    run = runner(capsys, f"sqlite:///{tmp_path / 'fresh.db'}")("init", "--json")
    assert run.code == 0
    key = run.document["signing_key"]
    assert key["key_dir"] == str(tmp_path / "fresh.keys")
    assert (tmp_path / "fresh.keys" / f"{key['key_id']}.pem").is_file()


def test_init_registry_alone_makes_no_key(
    make_registry: Callable[..., Registry], sqlite_url: str, tmp_path: Path
):
    registry = make_registry(sqlite_url)
    assert keys.list_keys(registry) == []
    init_registry(registry, [])
    assert not (tmp_path / "registry.keys").exists()
