"""What a signed statement prints about its signature: the QR code and a few short lines.

The lines are drawn from the signed statement itself (key, time, checkpoint, digest), so a
statement printed again from its signed content prints them again the same way: that is what
``statement verify`` compares.
"""

import base64
import io
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from socialcredit.services.signed_statements import SignedStatement

__all__ = ["QR_BORDER", "QR_BOX", "SignatureView", "qr_image", "qr_png", "signature_view"]

QR_BOX = 4  # pixels per module
QR_BORDER = 4  # modules of quiet zone


def qr_image(token: str) -> "qrcode.image.pil.PilImage":
    """The QR code of a statement token (medium error correction survives a crease)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=QR_BOX, border=QR_BORDER)
    code.add_data(token)
    code.make(fit=True)
    return code.make_image()


def qr_png(token: str) -> bytes:
    buffer = io.BytesIO()
    qr_image(token).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class SignatureView:
    qr: str  # data: URI of the PNG
    key_id: str
    signed_at: str
    checkpoint: str
    digest: str


def signature_view(signed: SignedStatement) -> SignatureView:
    document = signed.document
    checkpoint = signed.checkpoint
    return SignatureView(
        qr="data:image/png;base64," + base64.b64encode(qr_png(signed.token)).decode(),
        key_id=str(document["key_id"]),
        signed_at=str(document["signed_at"]),
        checkpoint=(
            f"{checkpoint.id} · {checkpoint.size} records · root {checkpoint.root.hex()[:16]}"
        ),
        digest=signed.sha256[:32],
    )
