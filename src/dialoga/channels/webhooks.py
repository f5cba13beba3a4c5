"""Inbound webhooks: integrations push messages and profiles into a channel, signed and once.

A delivery is a JSON body holding generic records (docs/import-formats.md): one record,
a list of them, or ``{"records": [...]}``. It carries three headers:

- ``X-Dialoga-Delivery``: the sender's id for this delivery (at most 200 characters);
- ``X-Dialoga-Timestamp``: Unix seconds when it was signed, within five minutes of now;
- ``X-Dialoga-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the channel's
  webhook secret, of ``timestamp + "." + delivery + "." + body``.

The delivery id is stored in the transaction that stores the records, so a delivery
sent twice is refused the second time, and one whose storing failed can be sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from dialoga.audience.actions import do_store_profiles
from dialoga.channels.base import NormalizedMessage, NormalizedProfile, Rejection
from dialoga.channels.credentials import credentials_of, do_set_credentials
from dialoga.channels.importers.generic import RecordContext, parse_record
from dialoga.channels.models import Channel, WebhookDelivery
from dialoga.core.db import insert_ignoring_conflicts
from dialoga.core.errors import DialogaError, ValidationError
from dialoga.core.vault import Secret, Vault
from dialoga.inbox.actions import ingest

MAX_BODY_BYTES = 1 << 20
MAX_RECORDS = 1000
TOLERANCE = timedelta(minutes=5)
SECRET_FIELD = "webhook_secret"  # noqa: S105 (the name of a field, not a secret)
MAX_DELIVERY_CHARS = 200


class SignatureError(DialogaError):
    """The delivery is not signed with the channel's secret, or not recently."""


class ReplayError(DialogaError):
    """This delivery id was already accepted."""


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    timestamp: str
    signature: str
    body: bytes


@dataclass(slots=True)
class Accepted:
    """What a delivery stored, and the records refused with their index and reason."""

    messages: int = 0
    profiles: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)


def signature(secret: str, timestamp: str, delivery_id: str, body: bytes) -> str:
    """The ``X-Dialoga-Signature`` value a sender computes."""
    signed = f"{timestamp}.{delivery_id}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def check_signature(secret: str, delivery: Delivery, now: datetime) -> None:
    """Refuse a delivery whose signature or timestamp does not hold."""
    if not delivery.timestamp.isdigit():
        raise SignatureError("X-Dialoga-Timestamp must be Unix seconds")
    signed_at = datetime.fromtimestamp(int(delivery.timestamp), now.tzinfo)
    if abs(now - signed_at) > TOLERANCE:
        raise SignatureError("the delivery was signed more than five minutes from now")
    expected = signature(secret, delivery.timestamp, delivery.delivery_id, delivery.body)
    if not hmac.compare_digest(expected, delivery.signature):
        raise SignatureError("the signature does not match the channel's webhook secret")


def do_enable_webhook(session: Session, channel: Channel, vault: Vault, *, actor: str) -> str:
    """Give the channel a new webhook secret (replacing any earlier one); returns it."""
    new_secret = secrets.token_urlsafe(32)
    current = credentials_of(session, channel, vault)
    fields = {**(current.fields if current else {}), SECRET_FIELD: new_secret}
    do_set_credentials(session, channel, Secret(fields), vault, actor=actor)
    return new_secret


def do_receive(
    session: Session, channel: Channel, delivery: Delivery, vault: Vault, now: datetime
) -> Accepted:
    """Check, record and store one delivery, all in the caller's transaction."""
    if not delivery.delivery_id or len(delivery.delivery_id) > MAX_DELIVERY_CHARS:
        raise ValidationError(f"X-Dialoga-Delivery must be 1 to {MAX_DELIVERY_CHARS} characters")
    current = credentials_of(session, channel, vault)
    if current is None or SECRET_FIELD not in current.fields:
        raise SignatureError("this channel takes no webhooks: enable them first")
    check_signature(str(current.fields[SECRET_FIELD]), delivery, now)
    records = _records(delivery.body)
    row = {"channel_id": channel.id, "delivery_id": delivery.delivery_id, "received_at": now}
    if not insert_ignoring_conflicts(
        session, WebhookDelivery, [row], ["channel_id", "delivery_id"]
    ):
        raise ReplayError(f"delivery {delivery.delivery_id!r} was already accepted")
    return _store(session, channel, records, now)


def _records(body: bytes) -> list[object]:
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError(f"the body is larger than {MAX_BODY_BYTES:,} bytes")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise ValidationError("the body is not JSON") from None
    if isinstance(value, dict) and isinstance(value.get("records"), list):
        value = value["records"]
    records = value if isinstance(value, list) else [value]
    if len(records) > MAX_RECORDS:
        raise ValidationError(f"more than {MAX_RECORDS:,} records in one delivery")
    return records


def _store(session: Session, channel: Channel, records: list[object], now: datetime) -> Accepted:
    context = RecordContext.of(Path("webhook"), channel.network, ())
    accepted = Accepted()
    messages: list[NormalizedMessage] = []
    profiles: list[NormalizedProfile] = []
    for index, record in enumerate(records):
        parsed = (
            parse_record(record, context, index, json.dumps(record)[:2000])
            if isinstance(record, dict)
            else Rejection("webhook", index, "a record must be a JSON object")
        )
        if isinstance(parsed, Rejection):
            accepted.rejected.append({"index": index, "reason": parsed.reason})
        elif isinstance(parsed, NormalizedMessage):
            messages.append(parsed)
        else:
            profiles.append(parsed)
    if messages:
        accepted.messages = ingest(session, channel, messages).imported
    if profiles:
        do_store_profiles(session, channel.workspace_id, channel.id, profiles, now.date())
        accepted.profiles = len(profiles)
    return accepted
