"""Every write to contacts and identities: resolving authors in bulk, linking and merging."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from dialoga.channels.base import NormalizedAuthor
from dialoga.contacts.models import Contact, Identity
from dialoga.core.db import allocate_ids, bulk_insert, chunked, is_in
from dialoga.core.errors import ValidationError

IdentityKey = tuple[str, str]
_contacts = cast(Table, Contact.__table__)
_identities = cast(Table, Identity.__table__)


@dataclass(slots=True, frozen=True)
class ResolvedIdentity:
    """What ingest needs to know about an author once resolved."""

    identity_id: int
    contact_id: int | None
    is_brand: bool


def _load_identities(
    session: Session, workspace_id: int, keys: Iterable[IdentityKey]
) -> dict[IdentityKey, ResolvedIdentity]:
    by_network: dict[str, list[str]] = {}
    for network, external_id in keys:
        by_network.setdefault(network, []).append(external_id)
    found: dict[IdentityKey, ResolvedIdentity] = {}
    for network, external_ids in by_network.items():
        for chunk in chunked(external_ids):
            rows = session.execute(
                select(Identity.external_id, Identity.id, Identity.contact_id, Identity.is_brand)
                .where(Identity.workspace_id == workspace_id)
                .where(Identity.network == network)
                .where(is_in(session, Identity.external_id, chunk))
            )
            for external_id, identity_id, contact_id, is_brand in rows:
                found[(network, external_id)] = ResolvedIdentity(identity_id, contact_id, is_brand)
    return found


def _contacts_by_email(session: Session, workspace_id: int, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(emails):
        rows = session.execute(
            select(Contact.email, Contact.id)
            .where(Contact.workspace_id == workspace_id)
            .where(is_in(session, Contact.email, chunk))
            .order_by(Contact.id)
        )
        for email, contact_id in rows:
            if email is not None:
                found.setdefault(email, contact_id)
    return found


CONTACT_COLUMNS = ("id", "workspace_id", "display_name", "email", "stage")
IDENTITY_COLUMNS = (
    "id",
    "workspace_id",
    "contact_id",
    "network",
    "external_id",
    "handle",
    "display_name",
    "is_brand",
)


def _create_contacts(
    session: Session, workspace_id: int, authors: list[NormalizedAuthor]
) -> list[int]:
    ids = allocate_ids(session, Contact, len(authors))
    rows = [
        (
            contact_id,
            workspace_id,
            (a.display_name or a.handle or a.external_id)[:200],
            a.email.lower() if a.email else None,
            "new",
        )
        for contact_id, a in zip(ids, authors, strict=True)
    ]
    bulk_insert(session, _contacts, CONTACT_COLUMNS, rows)
    return ids


def resolve_identities(
    session: Session,
    workspace_id: int,
    authors: Iterable[NormalizedAuthor],
    known: Mapping[IdentityKey, ResolvedIdentity] | None = None,
) -> dict[IdentityKey, ResolvedIdentity]:
    """Find or create the identity (and, for people, the contact) of every author.

    New people get a contact of their own, or join the contact that already has their
    e-mail address. Safe against a concurrent writer creating the same identity.
    ``known`` holds identities already resolved (and committed) by the caller, such as an
    import's earlier batches: they are not looked up again.
    """
    wanted: dict[IdentityKey, NormalizedAuthor] = {}
    for author in authors:
        key = (author.network, author.external_id)
        if key not in wanted or (author.is_brand and not wanted[key].is_brand):
            wanted[key] = author  # one mention as the brand makes it the brand
    cached = known or {}
    resolved = {key: cached[key] for key in wanted if key in cached}
    resolved.update(_load_identities(session, workspace_id, [k for k in wanted if k not in cached]))
    _promote_brand_identities(session, wanted, resolved)
    missing = [author for key, author in wanted.items() if key not in resolved]
    if missing:
        resolved.update(_create_identities(session, workspace_id, missing))
    return resolved


def _contacts_for_new_people(
    session: Session, workspace_id: int, people: list[NormalizedAuthor], known: dict[str, int]
) -> dict[IdentityKey, int]:
    """One new contact per new person; authors sharing an unknown e-mail share one."""
    founders: dict[str, NormalizedAuthor] = {}
    needing: list[NormalizedAuthor] = []
    for author in people:
        email = author.email.lower() if author.email else None
        if email is None:
            needing.append(author)
        elif email not in known and email not in founders:
            founders[email] = author
            needing.append(author)
    created = dict(
        zip(
            ((a.network, a.external_id) for a in needing),
            _create_contacts(session, workspace_id, needing),
            strict=True,
        )
    )
    for email, founder in founders.items():
        known[email] = created[(founder.network, founder.external_id)]
    return created


def _create_identities(
    session: Session, workspace_id: int, missing: list[NormalizedAuthor]
) -> dict[IdentityKey, ResolvedIdentity]:
    people = [a for a in missing if not a.is_brand]
    emails = sorted({a.email.lower() for a in people if a.email})
    known_emails = _contacts_by_email(session, workspace_id, emails)
    new_contacts = _contacts_for_new_people(session, workspace_id, people, known_emails)
    created: dict[IdentityKey, ResolvedIdentity] = {}
    rows = []
    ids = allocate_ids(session, Identity, len(missing))
    for identity_id, author in zip(ids, missing, strict=True):
        key = (author.network, author.external_id)
        contact_id = new_contacts.get(key)
        if contact_id is None and author.email and not author.is_brand:
            contact_id = known_emails.get(author.email.lower())
        created[key] = ResolvedIdentity(identity_id, contact_id, author.is_brand)
        rows.append(
            (
                identity_id,
                workspace_id,
                contact_id,
                author.network,
                author.external_id,
                author.handle,
                author.display_name,
                author.is_brand,
            )
        )
    written = bulk_insert(
        session,
        _identities,
        IDENTITY_COLUMNS,
        rows,
        on_conflict_do_nothing=("workspace_id", "network", "external_id"),
    )
    if written == len(rows):
        return created
    # A concurrent writer created some of them first: take theirs, drop our spare contacts.
    created = _load_identities(session, workspace_id, created)
    _drop_contacts_lost_to_race(session, new_contacts, created)
    return created


def _promote_brand_identities(
    session: Session,
    wanted: dict[IdentityKey, NormalizedAuthor],
    resolved: dict[IdentityKey, ResolvedIdentity],
) -> None:
    """An author the source calls the brand becomes a brand identity, whatever it was.

    Brand identities belong to no contact: the contact made when the account was first
    taken for a person is left, and deleted if no other identity keeps it.
    """
    promote = [
        key
        for key, author in wanted.items()
        if author.is_brand and key in resolved and not resolved[key].is_brand
    ]
    for key in promote:
        identity = resolved[key]
        session.execute(
            update(Identity)
            .where(Identity.id == identity.identity_id)
            .values(is_brand=True, contact_id=None)
        )
        if identity.contact_id is not None:
            _delete_if_unused(session, identity.contact_id)
        resolved[key] = ResolvedIdentity(identity.identity_id, None, True)


def _delete_if_unused(session: Session, contact_id: int) -> None:
    """Delete a contact that no identity points to any more."""
    still_used = session.scalar(
        select(Identity.id).where(Identity.contact_id == contact_id).limit(1)
    )
    if still_used is None:
        session.execute(delete(Contact).where(Contact.id == contact_id))


def _drop_contacts_lost_to_race(
    session: Session,
    new_contact_ids: dict[IdentityKey, int],
    created: dict[IdentityKey, ResolvedIdentity],
) -> None:
    orphans = [
        contact_id
        for key, contact_id in new_contact_ids.items()
        if created[key].contact_id != contact_id
    ]
    for chunk in chunked(orphans):
        session.execute(delete(Contact).where(is_in(session, Contact.id, chunk)))


def check_link_identity(
    session: Session, workspace_id: int, identity_id: int, contact_id: int
) -> None:
    """Refuse a link between objects that are not both people of this workspace."""
    identity = session.get(Identity, identity_id)
    contact = session.get(Contact, contact_id)
    if identity is None or identity.workspace_id != workspace_id:
        raise ValidationError(f"identity {identity_id} does not exist in this workspace")
    if contact is None or contact.workspace_id != workspace_id:
        raise ValidationError(f"contact {contact_id} does not exist in this workspace")
    if identity.is_brand:
        raise ValidationError("a brand identity cannot belong to a contact")


def do_link_identity(session: Session, identity_id: int, contact_id: int) -> None:
    """Make a handle one more identity of a contact: one person across networks.

    The contact the identity leaves is deleted when no other identity points to it.
    """
    identity = session.get_one(Identity, identity_id)
    previous = identity.contact_id
    identity.contact_id = contact_id
    session.flush()
    if previous is not None and previous != contact_id:
        _delete_if_unused(session, previous)
