"""Notice delivery (issue 4, item 1): a file outbox and e-mail through a real local SMTP
server (aiosmtpd, with STARTTLS on a throwaway certificate and a login), every attempt
recorded, re-runs idempotent, failures retried, a channel that is down stops the run.
"""

import datetime as dt
import ipaddress
import json
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import insert, select, update
from tests.conftest import EVENTS_HEADER, LI_NA, NOW, ZHANG_JIAN, person, recent, write_csv
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.domain.errors import SocialCreditError
from socialcredit.services.access import list_access
from socialcredit.services.delivery import deliver_notices, list_notices_for
from socialcredit.services.events import import_events
from socialcredit.services.notifiers import FileNotifier, SmtpConfig, SmtpNotifier
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store.schema import notice_deliveries, notices, people

ZHANG_MAIL = "zhang.jian@example.cn"
LOGIN, PASSWORD = "notices-office", "s3cret-pass"
SENDER = "notices@credit.rongcheng.example"
NOBODY = person(sequence=9)  # valid, never registered


# --- a real SMTP server ------------------------------------------------------------------------


@dataclass
class Inbox:
    """What the server received; addresses in ``refuse`` get 550 at RCPT."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 2.0.0 queued"

    def parsed(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _f, _t, raw in self.messages]  # type: ignore[misc]


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "socialcredit test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        LOGIN.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)  # the server answers 535 itself


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    ca_file: Path


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield SmtpServer(inbox, port, cert)
    finally:
        controller.stop()


def _smtp_settings(server: SmtpServer, **changes: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_from": SENDER,
        "smtp_username": LOGIN,
        "smtp_password": PASSWORD,
        "smtp_ca_file": str(server.ca_file),
        "smtp_timeout_seconds": 5,
        **changes,
    }


def _smtp(registry: Registry, server: SmtpServer, **changes: Any) -> SmtpNotifier:
    settings = load_settings({}, **_smtp_settings(server, **changes))
    return SmtpNotifier(SmtpConfig.from_settings(settings), registry.clock)


# --- a registry with notices -------------------------------------------------------------------


def _town(registry: Registry, people_file: Path, tmp_path: Path) -> Registry:
    """Zhang Jian (with an e-mail address) ran a red light; Li Na (without) got in a fight.

    The imports record a notice for each adverse entry, none for Zhang's merit."""
    import_people(registry, people_file)
    with registry.database.write() as connection:
        connection.execute(update(people).where(people.c.id == ZHANG_JIAN).values(email=ZHANG_MAIL))
    # Two imports: within one batch notices follow the order the entries are written (by
    # agency and event ID); these tests want Zhang's first.
    zhang = write_csv(
        tmp_path / "zhang.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(20)},camera 7",
            f"forestry-bureau,FB-1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,{recent(10)},",
        ],
    )
    li_na = write_csv(
        tmp_path / "li-na.csv",
        EVENTS_HEADER,
        [f"public-security,PS-1,{LI_NA},PUBLIC-FIGHT,{recent(5)},case 88"],
    )
    assert import_events(registry, zhang).accepted + import_events(registry, li_na).accepted == 3
    assert [n["person_id"] for n in _notices(registry)] == [ZHANG_JIAN, LI_NA]
    return registry


@pytest.fixture
def town(registry: Registry, people_file: Path, tmp_path: Path) -> Registry:
    return _town(registry, people_file, tmp_path)


def _notices(registry: Registry) -> list[dict[str, Any]]:
    with registry.database.read() as connection:
        return [
            dict(r._mapping) for r in connection.execute(select(notices).order_by(notices.c.id))
        ]


def _deliveries(registry: Registry) -> list[tuple[int, str, str, str | None]]:
    query = select(notice_deliveries).order_by(notice_deliveries.c.id)
    with registry.database.read() as connection:
        return [(r.notice_id, r.channel, r.status, r.error) for r in connection.execute(query)]


def _add_notice(registry: Registry, person_id: str, subject: str = "Test notice / 测试通知") -> int:
    with registry.database.write() as connection:
        result = connection.execute(
            insert(notices).values(
                person_id=person_id,
                kind="entry",
                entry_id=None,
                subject=subject,
                body="A test notice. 测试。",
                detail=json.dumps(
                    {"agency": "traffic-police", "rule": "TRAFFIC-RED-LIGHT", "points": -5}
                ),
                recorded_at=registry.clock.now(),
            )
        )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _outbox(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- the file channel ---------------------------------------------------------------------------


def test_file_outbox_gets_each_notice_once(town: Registry, tmp_path: Path):
    outbox = tmp_path / "outbox.jsonl"
    report = deliver_notices(town, FileNotifier(outbox, town.clock))
    assert (report.attempted, report.sent, report.failed, report.skipped) == (2, 2, 0, 0)
    assert (report.remaining, report.given_up, report.stopped) == (0, 0, None)
    first, second = _outbox(outbox)
    ids = [n["id"] for n in _notices(town)]
    assert [first["notice_id"], second["notice_id"]] == ids
    assert (first["person_id"], first["name"], first["email"]) == (ZHANG_JIAN, "张建", ZHANG_MAIL)
    assert (second["person_id"], second["district"], second["email"]) == (LI_NA, "城西街道", None)
    assert (
        "TRAFFIC-RED-LIGHT" in first["text"] and "Municipal Traffic Police Brigade" in first["text"]
    )
    assert first["detail"]["rule"] == "TRAFFIC-RED-LIGHT"
    assert [d[:3] for d in _deliveries(town)] == [
        (ids[0], "file", "sent"),
        (ids[1], "file", "sent"),
    ]
    again = deliver_notices(town, FileNotifier(outbox, town.clock))
    assert (again.attempted, again.remaining) == (0, 0)
    assert len(_outbox(outbox)) == 2  # idempotent: nothing written twice


def test_runs_are_bounded_by_the_limit(town: Registry, tmp_path: Path):
    outbox = tmp_path / "outbox.jsonl"
    first = deliver_notices(town, FileNotifier(outbox, town.clock), limit=1)
    assert (first.sent, first.remaining) == (1, 1)
    second = deliver_notices(town, FileNotifier(outbox, town.clock), limit=1)
    assert (second.sent, second.remaining) == (1, 0)
    assert [d["notice_id"] for d in _outbox(outbox)] == [n["id"] for n in _notices(town)]
    with pytest.raises(SocialCreditError) as refusal:
        deliver_notices(town, FileNotifier(outbox, town.clock), limit=0)
    assert refusal.value.code == "invalid-input"


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next(town: Registry, tmp_path: Path):
    outbox = tmp_path / "outbox.jsonl"
    outbox.write_text('{"notice_id": 1, "te', encoding="utf-8")
    deliver_notices(town, FileNotifier(outbox, town.clock))
    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"notice_id": 1, "te'
    assert [json.loads(line)["person_id"] for line in lines[1:]] == [ZHANG_JIAN, LI_NA]


def test_an_outbox_that_cannot_be_opened_is_refused(town: Registry, tmp_path: Path):
    with pytest.raises(SocialCreditError) as refusal:
        deliver_notices(
            town, FileNotifier(tmp_path / "no-such-folder" / "outbox.jsonl", town.clock)
        )
    assert refusal.value.code == "invalid-input"
    assert _deliveries(town) == []


def test_channels_are_independent(town: Registry, tmp_path: Path, smtp_server: SmtpServer):
    deliver_notices(town, FileNotifier(tmp_path / "outbox.jsonl", town.clock))
    report = deliver_notices(town, _smtp(town, smtp_server))
    assert (report.sent, report.skipped) == (1, 1)


# --- e-mail -------------------------------------------------------------------------------------


def test_email_in_chinese_and_english_with_the_facts(town: Registry, smtp_server: SmtpServer):
    report = deliver_notices(town, _smtp(town, smtp_server))
    assert (report.sent, report.skipped, report.failed, report.remaining) == (1, 1, 0, 0)
    zhang, li_na = report.results
    assert (zhang["person_id"], zhang["status"], zhang["address"]) == (
        ZHANG_JIAN,
        "sent",
        ZHANG_MAIL,
    )
    assert (li_na["person_id"], li_na["status"], li_na["error"]) == (
        LI_NA,
        "skipped",
        "no e-mail address on record",
    )
    [(mail_from, recipients, _raw)] = smtp_server.inbox.messages
    assert (mail_from, recipients) == (SENDER, [ZHANG_MAIL])
    [message] = smtp_server.inbox.parsed()
    assert message["To"].addresses[0].addr_spec == ZHANG_MAIL
    assert message["To"].addresses[0].display_name == "张建"
    assert "TRAFFIC-RED-LIGHT" in message["Subject"] and "社会信用通知" in message["Subject"]
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    counts_until = (dt.date.fromisoformat(recent(20)) + dt.timedelta(days=365)).isoformat()
    for fact in (
        "张建",
        "TRAFFIC-RED-LIGHT (Running a red light)",  # the rule, with its title
        "traffic-police (Municipal Traffic Police Brigade)",  # the agency, with its name
        "分值 Points: -5",
        f"计分至（不含） Counts until (exclusive): {counts_until}",
        "You may contest this",  # how to contest, in English
        "如有异议",  # and in Chinese
    ):
        assert fact in body, fact
    assert ZHANG_JIAN not in message["Message-ID"]


def test_a_person_skipped_is_not_tried_again(town: Registry, smtp_server: SmtpServer):
    deliver_notices(town, _smtp(town, smtp_server))
    with town.database.write() as connection:  # Li Na gives an address later
        connection.execute(
            update(people).where(people.c.id == LI_NA).values(email="li.na@example.cn")
        )
    again = deliver_notices(town, _smtp(town, smtp_server))
    assert again.attempted == 0  # the earlier notice went by post; new ones will be e-mailed
    _add_notice(town, LI_NA)
    third = deliver_notices(town, _smtp(town, smtp_server))
    assert [(r["person_id"], r["status"]) for r in third.results] == [(LI_NA, "sent")]


def test_an_address_that_could_inject_headers_is_not_used(town: Registry, smtp_server: SmtpServer):
    with town.database.write() as connection:
        connection.execute(
            update(people)
            .where(people.c.id == LI_NA)
            .values(email="li.na@example.cn\r\nBcc: all@example.cn")
        )
    report = deliver_notices(town, _smtp(town, smtp_server))
    li_na = next(r for r in report.results if r["person_id"] == LI_NA)
    assert li_na["status"] == "skipped" and "not usable" in li_na["error"]
    assert [recipients for _f, recipients, _m in smtp_server.inbox.messages] == [[ZHANG_MAIL]]


def test_a_refused_recipient_fails_and_is_retried_until_given_up(
    make_registry: Callable[..., Registry],
    database_url: str,
    people_file: Path,
    tmp_path: Path,
    smtp_server: SmtpServer,
):
    registry = make_registry(database_url, notice_max_attempts=2)
    import_people(registry, people_file)
    with registry.database.write() as connection:
        connection.execute(update(people).values(email="nobody@example.cn"))
        connection.execute(update(people).where(people.c.id == ZHANG_JIAN).values(email=ZHANG_MAIL))
    smtp_server.inbox.refuse.add("nobody@example.cn")
    bad, good = _add_notice(registry, LI_NA), _add_notice(registry, ZHANG_JIAN)
    first = deliver_notices(registry, _smtp(registry, smtp_server))
    assert [(r["notice_id"], r["status"]) for r in first.results] == [
        (bad, "failed"),
        (good, "sent"),
    ]
    assert "550" in first.results[0]["error"] and first.stopped is None
    assert (first.remaining, first.given_up) == (1, 0)
    newer = _add_notice(registry, ZHANG_JIAN)
    second = deliver_notices(registry, _smtp(registry, smtp_server))
    # Notices never tried go first; then the failed one is retried.
    assert [(r["notice_id"], r["status"]) for r in second.results] == [
        (newer, "sent"),
        (bad, "failed"),
    ]
    assert (second.remaining, second.given_up) == (0, 1)
    third = deliver_notices(registry, _smtp(registry, smtp_server))
    assert third.attempted == 0  # given up after notice_max_attempts
    assert [d[2] for d in _deliveries(registry) if d[0] == bad] == ["failed", "failed"]


def test_a_server_that_is_down_stops_the_run(town: Registry, smtp_server: SmtpServer):
    closed_port = _free_port()
    report = deliver_notices(town, _smtp(town, smtp_server, smtp_port=closed_port))
    assert (report.attempted, report.failed) == (1, 1)
    assert report.stopped is not None and "ConnectionRefusedError" in report.stopped
    assert report.remaining == 2  # both still due: the failed one will be retried
    [(notice_id, channel, status, error)] = _deliveries(town)
    assert (channel, status) == ("smtp", "failed") and error == report.stopped


def test_wrong_credentials_and_untrusted_certificates_stop_the_run(
    town: Registry, smtp_server: SmtpServer, tmp_path: Path
):
    wrong = deliver_notices(town, _smtp(town, smtp_server, smtp_password="guess"))
    assert wrong.stopped is not None and "535" in wrong.stopped
    (tmp_path / "other").mkdir()
    other_ca, _key = _certificate(tmp_path / "other")
    untrusted = deliver_notices(town, _smtp(town, smtp_server, smtp_ca_file=str(other_ca)))
    assert untrusted.stopped is not None and "CERTIFICATE_VERIFY_FAILED" in untrusted.stopped
    assert smtp_server.inbox.messages == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"smtp_host": ""}, "SOCIALCREDIT_SMTP_HOST"),
        ({"smtp_from": "not an address"}, "smtp_from"),
        ({"smtp_starttls": False}, "in clear"),
        ({"smtp_password": "口令"}, "ASCII"),
    ],
)
def test_smtp_settings_are_checked(changes: dict[str, Any], says: str):
    base = {"smtp_host": "mail.example.cn", "smtp_from": SENDER, "smtp_username": LOGIN}
    with pytest.raises(SocialCreditError) as refusal:
        SmtpConfig.from_settings(load_settings({}, **{**base, **changes}))
    assert refusal.value.code == "invalid-input" and says in refusal.value.message


# --- listing a person's notices -----------------------------------------------------------------


def test_a_persons_notices_with_their_deliveries_are_logged(town: Registry, tmp_path: Path):
    deliver_notices(town, FileNotifier(tmp_path / "outbox.jsonl", town.clock))
    person, listed = list_notices_for(town, ZHANG_JIAN.lower(), 10, purpose="asked at the hall")
    assert person == ZHANG_JIAN
    [notice] = listed
    assert notice["kind"] == "entry" and notice["detail"]["rule"] == "TRAFFIC-RED-LIGHT"
    assert [(d["channel"], d["status"]) for d in notice["deliveries"]] == [("file", "sent")]
    [(_id, access)] = list_access(town, ZHANG_JIAN)
    assert (access.action, access.purpose) == ("notices", "asked at the hall")
    with pytest.raises(SocialCreditError) as refusal:
        list_notices_for(town, NOBODY, 10)
    assert refusal.value.code == "unregistered-person"


def test_notices_page_newest_first(town: Registry):
    extra = [_add_notice(town, ZHANG_JIAN, f"n{i}") for i in range(3)]
    _person, page = list_notices_for(town, ZHANG_JIAN, 2)
    assert [n["id"] for n in page] == [extra[2], extra[1]]
    _person, rest = list_notices_for(town, ZHANG_JIAN, 10, page[-1]["id"])
    assert [n["id"] for n in rest] == [extra[0], _notices(town)[0]["id"]]


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(
    sqlite_registry: Registry,
    people_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    _town(sqlite_registry, people_file, tmp_path)
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    monkeypatch.chdir(tmp_path)
    return runner(capsys, sqlite_registry.database.url)


def test_cli_deliver_and_list(cli: Callable[..., Run], tmp_path: Path):
    outbox = tmp_path / "mail-room.jsonl"
    done = cli("notices", "deliver", "--to", outbox, "--json")
    assert done.code == 0
    document = done.document
    assert {
        k: document[k]
        for k in (
            "channel",
            "attempted",
            "sent",
            "failed",
            "skipped",
            "stopped",
            "remaining",
            "given_up",
        )
    } == {
        "channel": "file",
        "attempted": 2,
        "sent": 2,
        "failed": 0,
        "skipped": 0,
        "stopped": None,
        "remaining": 0,
        "given_up": 0,
    }
    assert len(_outbox(outbox)) == 2
    default = cli("notices", "deliver", "--json")  # the default outbox is notice_outbox
    assert default.code == 0 and default.document["attempted"] == 0
    listed = cli("notices", ZHANG_JIAN, "--json")
    assert listed.code == 0 and listed.document["id"] == ZHANG_JIAN
    [notice] = listed.document["notices"]
    assert notice["deliveries"][0]["status"] == "sent"
    same = cli("notices", "show", ZHANG_JIAN, "--json")
    assert same.document["notices"] == listed.document["notices"]
    human = cli("notices", LI_NA)
    assert human.code == 0 and "PUBLIC-FIGHT" in human.out and "file sent" in human.out


def test_cli_refusals(cli: Callable[..., Run], tmp_path: Path):
    refused(cli("notices", "deliver", "--channel", "smtp", "--json"), 2, "invalid-input")
    refused(cli("notices", "deliver", "--channel", "fax", "--json"), 2, "invalid-input")
    refused(
        cli("notices", "deliver", "--channel", "smtp", "--to", tmp_path / "x", "--json"),
        2,
        "invalid-input",
    )
    refused(cli("notices", NOBODY, "--json"), 1, "unregistered-person")
    refused(cli("notices", "12345", "--json"), 1, "invalid-person-id")


def test_cli_deliver_by_email(
    cli: Callable[..., Run], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
):
    for name, value in _smtp_settings(smtp_server).items():
        monkeypatch.setenv(f"SOCIALCREDIT_{name.upper()}", str(value))
    done = cli("notices", "deliver", "--channel", "smtp", "--json")
    assert done.code == 0 and (done.document["sent"], done.document["skipped"]) == (1, 1)
    human = cli("notices", "deliver", "--channel", "smtp")
    assert human.code == 0 and "0 sent" in human.out
    assert len(smtp_server.inbox.messages) == 1
