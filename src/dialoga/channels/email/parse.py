"""Pure reading of one e-mail fetched over IMAP into a ``NormalizedMessage``.

It is the mbox importer's parser (``importers.mbox.parse_message``, itself pure), so a
mailbox read live and the same mailbox imported from a file give the same messages:
Message-ID as the external id, In-Reply-To and References for threading, the text/plain
body or the text of the HTML one. Only the brand's own messages get a direction.
"""

from __future__ import annotations

from dialoga.channels.base import MalformedPayloadError, NormalizedMessage
from dialoga.channels.importers.mbox import NETWORK as NETWORK  # noqa: PLC0414
from dialoga.channels.importers.mbox import parse_message


def read_email(data: bytes, brand_address: str, where: str) -> NormalizedMessage:
    """The e-mail in ``data``; ``where`` names it in the error (``INBOX UID 42``).

    A message from ``brand_address`` is the brand's own, so outbound.
    ``MalformedPayloadError`` when it is no readable e-mail (no Message-ID, From or Date).
    """
    parsed = parse_message(data, where, 0, frozenset({brand_address.strip().lower()}))
    if not isinstance(parsed, NormalizedMessage):
        raise MalformedPayloadError(f"{where}: {parsed.reason}")
    if parsed.author.is_brand:
        parsed.direction = "outbound"
    return parsed
