"""Delivering notices: a pluggable notifier, a file outbox and e-mail (issue 4, item 1).

Notices are recorded by ``services.notices`` in the same transaction as what they tell about;
``services.delivery.deliver_notices`` sends them afterwards, in bounded runs, through one
``Notifier``:

- ``FileNotifier`` appends one JSON document per notice to an outbox file that a
  print-and-mail service collects, and fsyncs it before the delivery is recorded;
- ``SmtpNotifier`` e-mails the letter (Chinese and English, UTF-8) over SMTP with STARTTLS
  and optional login, all from named settings. A person without a usable e-mail address is
  skipped, and the skip is recorded with its reason (the post, i.e. the file channel, reaches
  them).

Every attempt appends a ``notice_deliveries`` row: ``sent``, ``failed`` (with the error) or
``skipped``. A notice is due on a channel until it has a ``sent`` or ``skipped`` row there, so
a re-run never sends a notice twice on one channel; failures are retried, new notices first,
up to ``notice_max_attempts`` per channel. Delivery is at least once: if the process dies
between handing a notice over and recording it, the next run hands it over again, with the
same ``notice_id`` (file) or ``Message-ID`` (e-mail) so that the receiver can drop the repeat.
See ``docs/due-process.md``.
"""

import hashlib
import json
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field, replace
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from socialcredit.domain.catalogue import Catalogue
from socialcredit.domain.errors import InputError
from socialcredit.services.clock import Clock
from socialcredit.services.notice_text import OutgoingNotice, render_letter, render_subject
from socialcredit.settings import Settings

__all__ = [
    "DeliveryError",
    "FileNotifier",
    "Notifier",
    "Outcome",
    "SmtpConfig",
    "SmtpNotifier",
    "opened",
]

Status = Literal["sent", "failed", "skipped"]
# A plain address: no spaces, no control characters, one @ with a dot in the domain. Anything
# else is not sent (a line break in an address would let it add mail headers).
EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
MAX_EMAIL_CHARS = 254


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    address: str | None = None
    error: str | None = None


class DeliveryError(Exception):
    """A notice could not be handed over. ``fatal``: the channel itself is down (the server
    is unreachable, the disk is full), so the run stops instead of failing every notice."""

    def __init__(self, message: str, *, fatal: bool = False, address: str | None = None) -> None:
        super().__init__(message)
        self.fatal = fatal
        self.address = address


class Notifier(Protocol):
    """A delivery channel. ``open`` before the first ``send``, ``close`` after the last."""

    channel: str

    def open(self) -> None: ...

    def send(self, notice: OutgoingNotice, catalogue: Catalogue | None) -> Outcome:
        """Hand one notice over; raise ``DeliveryError`` if it could not be."""
        ...

    def close(self) -> None: ...


def opened(notifier: Notifier) -> "_Opened":
    """``with opened(notifier):`` opens it and closes it whatever happens."""
    return _Opened(notifier)


class _Opened:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def __enter__(self) -> Notifier:
        self.notifier.open()
        return self.notifier

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.notifier.close()


# --- the file outbox --------------------------------------------------------------------------


@dataclass
class FileNotifier:
    """Appends one JSON document per line (UTF-8) to ``path``; each is fsync'd when sent."""

    path: Path
    clock: Clock
    channel: str = "file"
    _fd: int | None = field(default=None, repr=False)

    def open(self) -> None:
        try:
            new = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            if new:  # make the new directory entry durable too
                _fsync_directory(self.path.parent)
            elif _ends_without_newline(self.path):
                # A crash cut the last line short: start ours on a fresh line.
                self._write(b"\n")
        except OSError as error:
            raise InputError(f"{self.path}: cannot open the outbox: {error.strerror}") from None

    def _write(self, data: bytes) -> None:
        assert self._fd is not None, "open() the notifier first"
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def send(self, notice: OutgoingNotice, catalogue: Catalogue | None) -> Outcome:
        document = {
            "notice_id": notice.id,
            "person_id": notice.person_id,
            "name": notice.name,
            "district": notice.district,
            "email": notice.email,
            "kind": notice.kind,
            "entry_id": notice.entry_id,
            "subject": render_subject(notice),
            "text": render_letter(notice, self.clock.zone, catalogue),
            "detail": notice.detail,
            "recorded_at": notice.recorded_at.isoformat(),
            "delivered_at": self.clock.now().isoformat(),
        }
        line = json.dumps(document, ensure_ascii=False, default=str) + "\n"
        try:
            self._write(line.encode("utf-8"))
        except OSError as error:
            raise DeliveryError(f"{self.path}: {error.strerror}", fatal=True) from None
        return Outcome("sent", str(self.path))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _ends_without_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return False
        handle.seek(size - 1)
        return handle.read(1) != b"\n"


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- e-mail -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""
    timeout_seconds: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmtpConfig":
        """The settings ``smtp_*``; refuses (exit 2) an incomplete or unsafe set."""
        if not settings.smtp_host.strip():
            raise InputError("e-mail is not set up: set SOCIALCREDIT_SMTP_HOST (setting smtp_host)")
        if not EMAIL.fullmatch(settings.smtp_from.strip()):
            raise InputError(
                f"setting smtp_from: {settings.smtp_from!r} is not an e-mail address "
                "(set SOCIALCREDIT_SMTP_FROM)"
            )
        if settings.smtp_username and not settings.smtp_starttls:
            raise InputError(
                "setting smtp_username is set but smtp_starttls is off: the password would "
                "cross the network in clear; turn STARTTLS on"
            )
        if not (settings.smtp_username + settings.smtp_password).isascii():
            # smtplib's AUTH PLAIN and LOGIN only carry ASCII.
            raise InputError("settings smtp_username and smtp_password must be ASCII")
        return cls(
            host=settings.smtp_host.strip(),
            port=settings.smtp_port,
            sender=settings.smtp_from.strip(),
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            ca_file=settings.smtp_ca_file,
            timeout_seconds=settings.smtp_timeout_seconds,
        )


@dataclass
class SmtpNotifier:
    """E-mails each notice to the person's address; one connection per run, opened lazily."""

    config: SmtpConfig
    clock: Clock
    channel: str = "smtp"
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)

    def open(self) -> None:
        """Nothing yet: the connection opens on the first notice that has an address."""

    def _connect(self, address: str) -> smtplib.SMTP:
        config = self.config
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
            smtp.ehlo()
            if config.starttls:
                context = ssl.create_default_context(cafile=config.ca_file or None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password)
        except (smtplib.SMTPException, OSError) as error:
            if smtp is not None:
                smtp.close()  # a half-open connection must not leak its socket
            where = f"SMTP server {config.host}:{config.port}"
            raise DeliveryError(
                f"{where}: {_describe(error)}", fatal=True, address=address
            ) from None
        return smtp

    def message(self, notice: OutgoingNotice, catalogue: Catalogue | None) -> EmailMessage:
        """The e-mail for ``notice``; its Message-ID names the notice, so repeats are known."""
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = Address(display_name=notice.name or "", addr_spec=notice.email or "")
        message["Subject"] = render_subject(notice)
        message["Date"] = format_datetime(self.clock.now().astimezone(self.clock.zone))
        domain = self.config.sender.rsplit("@", 1)[-1]
        # Stable per notice, so a resent notice is recognisable, and without the resident ID,
        # which has no business in the headers every relay reads.
        key = f"{notice.id}|{notice.person_id}|{notice.recorded_at.isoformat()}"
        tag = hashlib.sha256(key.encode()).hexdigest()[:20]
        message["Message-ID"] = f"<notice-{notice.id}.{tag}@{domain}>"
        message.set_content(render_letter(notice, self.clock.zone, catalogue), charset="utf-8")
        return message

    def send(self, notice: OutgoingNotice, catalogue: Catalogue | None) -> Outcome:
        address = (notice.email or "").strip()
        if not address:
            return Outcome("skipped", None, "no e-mail address on record")
        try:
            if len(address) > MAX_EMAIL_CHARS or not EMAIL.fullmatch(address):
                raise ValueError(address)
            message = self.message(replace(notice, email=address), catalogue)
        except ValueError:  # also the header parser's errors
            return Outcome(
                "skipped", None, f"the e-mail address on record is not usable: {address!r}"
            )
        if self._smtp is None:
            self._smtp = self._connect(address)
        try:
            self._smtp.send_message(message, self.config.sender, [address])
        except OSError as error:  # smtplib.SMTPException is an OSError too
            if not _channel_down(error):  # a refused recipient, a rejected message, ...
                raise DeliveryError(_describe(error), address=address) from None
            self.close()
            raise DeliveryError(_describe(error), fatal=True, address=address) from None
        return Outcome("sent", address)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _channel_down(error: OSError) -> bool:
    """Would every other notice fail the same way? The server went away or is closing
    (421), it refuses our sender, or the network failed."""
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPSenderRefused):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    return not isinstance(error, smtplib.SMTPException)


def _describe(error: BaseException) -> str:
    """One line for the deliveries table: the server's code and answer, or the OS error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{address} refused: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        ]
        return "; ".join(parts)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    return f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:500]
