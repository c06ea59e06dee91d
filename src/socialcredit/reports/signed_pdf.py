"""Signed PDF statements: the verifier's minimal statement, and checking a PDF file.

``verify_statement_pdf`` refuses a PDF, naming the reason, when

- no signed statement is attached (not a signed statement, or it was stripped);
- the signature does not match the attached content (its numbers or text were edited), the key
  is not one of the office's, or was revoked before the signing time;
- the QR code's token is not signed, or does not vouch for the attached statement;
- the printed text differs from the signed content: the statement is printed again from what
  was signed and the two texts are compared (spacing and page breaks aside);
- the QR code on the page is not the code of the signed token.
"""

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from socialcredit.reports import pdf
from socialcredit.reports.fonts import css_font_stack
from socialcredit.reports.signature_block import qr_image, signature_view
from socialcredit.services import keys
from socialcredit.services.signed_statements import (
    ATTACHMENT_NAME,
    Minimal,
    SignedStatement,
    check_signed,
    minimal_from_dict,
    sign_statement,
    statement_from_dict,
)

if TYPE_CHECKING:
    from socialcredit.services.models import Statement
    from socialcredit.services.registry import Registry

__all__ = [
    "PdfCheck",
    "minimal_html",
    "render_minimal_pdf",
    "signed_statement_pdf",
    "verify_statement_pdf",
]


def signed_statement_pdf(registry: "Registry", statement: "Statement") -> bytes:
    """The printed statement, signed under the latest checkpoint, with its QR code: what the
    CLI's ``statement --pdf``, the API's ``?format=pdf`` and the portal's download all give."""
    signed = sign_statement(registry, statement)
    with tempfile.TemporaryDirectory(prefix="socialcredit-pdf-") as folder:
        return pdf.render_statement_pdf(
            statement, Path(folder) / "statement.pdf", signed
        ).read_bytes()


def minimal_html(minimal: Minimal, signed: SignedStatement | None = None) -> str:
    template = pdf._environment().get_template("minimal.html.j2")
    return template.render(
        m=minimal,
        issued_at=pdf._format_issued(minimal.issued_at),
        sig=None if signed is None else signature_view(signed),
        css=Markup(pdf._stylesheet()),
        font_stack=Markup(css_font_stack()),
    )


def render_minimal_pdf(minimal: Minimal, path: Path, signed: SignedStatement | None) -> Path:
    """The verifier's minimal statement as an A4 PDF (signed when ``signed`` is given)."""
    key = f"{minimal.id}|{minimal.policy}|{minimal.issued_at.isoformat()}"
    identifier = hashlib.sha256(key.encode()).hexdigest()[:32].encode()
    return pdf.write_pdf(minimal_html(minimal, signed), Path(path), identifier, signed)


# --- checking a PDF ---------------------------------------------------------------------------


@dataclass
class PdfCheck:
    problems: list[str] = field(default_factory=list)
    kind: str | None = None
    key_id: str | None = None
    signed_at: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    checkpoint: dict[str, Any] | None = None
    text: str = "not checked"
    qr: str = "not checked"

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        content = self.content
        person = {"id": content.get("id"), "name": content.get("name")}
        standing = {
            key: content[key]
            for key in ("as_of", "score", "grade", "blacklisted", "policy", "eligible", "purpose")
            if key in content
        }
        return {
            "valid": self.valid,
            "problems": self.problems,
            "kind": self.kind,
            "signed_by": self.key_id,
            "signed_at": self.signed_at,
            "person": person,
            "statement": standing,
            "entries": len(content.get("entries", [])),
            "checkpoint": self.checkpoint,
            "text": self.text,
            "qr": self.qr,
        }


def _text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


_PAGE_NUMBER = re.compile(r"page\d+of\d+·第\d+页共\d+页")


def _comparable(text: str, running: str | None) -> str:
    """Text without spacing, page numbers or the running line (they move with page breaks)."""
    squeezed = re.sub(r"\s+", "", text)
    squeezed = _PAGE_NUMBER.sub("", squeezed)
    if running:
        squeezed = squeezed.replace(re.sub(r"\s+", "", running), "")
    return squeezed


def _first_difference(printed: str, signed: str) -> str:
    index = next(
        (i for i, (a, b) in enumerate(zip(printed, signed, strict=False)) if a != b),
        min(len(printed), len(signed)),
    )
    start = max(index - 12, 0)
    return (
        f"the printed text differs from the signed content: printed "
        f"'…{printed[start : index + 12]}…' where the signed statement says "
        f"'…{signed[start : index + 12]}…'"
    )


def _expected_html(signed: SignedStatement) -> tuple[str, str | None]:
    content = signed.content
    if signed.document["kind"] == "minimal":
        return minimal_html(minimal_from_dict(content), signed), None
    statement = statement_from_dict(content)
    running = (
        f"{statement.name} · {statement.id} · as of 截至 {statement.as_of} · issued 出具 "
        f"{pdf._format_issued(statement.issued_at)}"
    )
    return pdf.statement_html(statement, signed), running


def _check_text(path: Path, signed: SignedStatement, check: PdfCheck) -> None:
    html, running = _expected_html(signed)
    with tempfile.TemporaryDirectory(prefix="scverify-") as folder:
        again = pdf.write_pdf(html, Path(folder) / "again.pdf", b"0" * 32, None)
        expected = _comparable(_text(again), running)
    printed = _comparable(_text(path), running)
    if printed == expected:
        check.text = "matches"
    else:
        check.text = "differs"
        check.problems.append(_first_difference(printed, expected))


def _modules(image: Any, size: int) -> list[int]:
    """The QR code's dark modules, sampled at each module's centre."""
    gray = image.convert("L")
    width, height = gray.size
    return [
        1
        if gray.getpixel((int((x + 0.5) * width / size), int((y + 0.5) * height / size))) < 128
        else 0
        for y in range(size)
        for x in range(size)
    ]


def _check_qr(path: Path, signed: SignedStatement, check: PdfCheck) -> None:
    from pypdf import PdfReader

    expected = qr_image(signed.token).get_image()
    size = expected.size[0] // 4  # QR_BOX pixels per module
    wanted = _modules(expected, size)
    for page in PdfReader(path).pages:
        for picture in page.images:
            image = picture.image
            square = image is not None and image.size[0] == image.size[1]
            if square and _modules(image, size) == wanted:
                check.qr = "matches"
                return
    check.qr = "differs"
    check.problems.append("the QR code on the page is not the code of the signed statement")


def _attached(path: Path) -> SignedStatement | str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        files = PdfReader(path).attachments
    except (PdfReadError, ValueError, OSError) as error:
        return f"{path} is not a readable PDF ({error})"
    data = files.get(ATTACHMENT_NAME)
    if not data:
        return "no signed statement is attached: not a signed statement, or it was removed"
    try:
        return SignedStatement.from_attachment(data[0].decode("utf-8"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        return f"the attached statement cannot be read ({error})"


def verify_statement_pdf(path: Path, keyring: keys.Keyring) -> PdfCheck:
    """Check a signed PDF statement (or minimal statement) against the office's keys."""
    check = PdfCheck()
    signed = _attached(path)
    if isinstance(signed, str):
        check.problems.append(signed)
        return check
    check.problems.extend(check_signed(signed, keyring))
    try:
        document = signed.document
        check.kind = str(document.get("kind"))
        check.key_id, check.signed_at = document.get("key_id"), document.get("signed_at")
        check.content = dict(document.get("statement") or {})
        checkpoint = signed.checkpoint
        check.checkpoint = {"id": checkpoint.id, "size": checkpoint.size}
    except (ValueError, KeyError, TypeError) as error:
        check.problems.append(f"the attached statement cannot be read ({error})")
        return check
    try:
        _check_text(path, signed, check)
    except (ValueError, KeyError, TypeError) as error:  # content that cannot be printed
        check.text = f"not checked: the signed content cannot be printed again ({error})"
        check.problems.append(check.text)
    _check_qr(path, signed, check)
    return check
