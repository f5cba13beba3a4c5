"""A big, plausible inbox for the load benchmark, stored through ``inbox.actions.ingest``.

One workspace with four channels (X, Mastodon, Instagram, e-mail) holds N messages in C
conversations of 1 to about 35 messages: two fifths await a reply, two fifths were
answered, a fifth were resolved (some of those never answered, with a reason such as
spam); a tenth are assigned to the benchmark's agent. People write in Italian or
English; a third of them use several networks with the same e-mail address, so one
contact holds several identities. Deterministic for a given seed.

Messages go through the real ingest in large batches, one transaction each, as a file
import does. Resolving and assigning have actions for one conversation only
(``inbox.work``), so the batch writes what they write (the conversation's columns, the
``resolved`` fact) with a few statements per batch. The workspace's name is the marker
a later run checks before reusing the database.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import (
    do_add_member,
    do_create_api_token,
    do_create_user,
    do_create_workspace,
)
from dialoga.accounts.models import Member, User, Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import MessageKind, NormalizedAuthor, NormalizedMessage
from dialoga.channels.imports import GROWING_TABLES, IDENTITY_CACHE_LIMIT
from dialoga.channels.models import Channel
from dialoga.contacts.actions import IdentityKey, ResolvedIdentity
from dialoga.core.clock import utcnow
from dialoga.core.db import bulk_update, chunked, is_in, refresh_statistics, transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.actions import do_record_detailed_events

DATA_VERSION = 2  # bump when the generated data changes, so old databases are reloaded
SLUG = "inbox-bench"
ACTOR = "benchmark"
AGENT_EMAIL = "agent@inbox-bench.example"
AGENT_PASSWORD = "inbox-bench-agent-password"  # a benchmark account, on loopback only
BRAND = "Caffè Aurora"
HISTORY_DAYS = 120
RESOLVED_COLUMNS = (
    "status",
    "resolved_at",
    "resolution_reason",
    "snoozed_until",
    "due_at",
    "breached_at",
    "awaiting_since",
)
UNANSWERED_REASONS = ("no_reply_needed", "spam", "duplicate", "handled_elsewhere")

FIRST_NAMES_IT = ("Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo", "Sara", "Paolo")
LAST_NAMES_IT = ("Rossi", "Bianchi", "Esposito", "Ferrari", "Romano", "Colombo", "Ricci")
FIRST_NAMES_EN = ("Emma", "James", "Olivia", "Noah", "Sophie", "Liam", "Grace", "Henry")
LAST_NAMES_EN = ("Smith", "Jones", "Taylor", "Brown", "Walker", "Wright", "Green")
PRODUCTS = ("miscela Aurora", "moka 3 tazze", "macinacaffè", "capsule decaf", "Etiopia Sidamo")
CITIES = ("Milano", "Torino", "Bologna", "Napoli", "London", "Dublin", "Zürich")

OPENERS = {
    "it": (
        "ciao, l'ordine {order} non è ancora arrivato a {city}, potete controllare?",
        "la {product} che ho ricevuto è difettosa, come faccio il reso?",
        "avete la {product} anche macinata per moka? Non la trovo sul sito.",
        "complimenti per la {product}, la migliore che abbia provato!",
        "posso cambiare l'indirizzo di consegna dell'ordine {order}? Ora sono a {city}.",
        "fate spedizioni in Svizzera? Vorrei regalare la {product} a un amico.",
    ),
    "en": (
        "hi, my order {order} still hasn't reached {city}, can you check?",
        "the {product} I received is broken, how do I send it back?",
        "do you sell the {product} ground for a moka pot? I can't find it on the site.",
        "loving the {product}, best coffee I've had in years!",
        "can I change the delivery address of order {order}? I'm in {city} now.",
        "do you ship to Switzerland? I'd like to send the {product} to a friend.",
    ),
}
FOLLOW_UPS = {
    "it": (
        "grazie, vi ho scritto in privato il numero d'ordine {order}",
        "ancora nessuna notizia, qualcuno mi risponde?",
        "perfetto, grazie mille!",
        "ok, aspetto allora. Era un regalo…",
    ),
    "en": (
        "thanks, I've sent you the order number {order} in a DM",
        "still no news, is anyone there?",
        "perfect, thank you so much!",
        "ok, I'll wait then. It was a gift…",
    ),
}
REPLIES = {
    "it": (
        "ciao {first}, ci dispiace! Abbiamo aperto una segnalazione per l'ordine {order}.",
        "grazie {first}! La {product} la maciniamo anche per moka, te la prepariamo noi.",
        "{first}, il reso è gratuito: ti mandiamo l'etichetta via e-mail entro oggi.",
        "certo {first}, spediamo in Svizzera in 3-4 giorni lavorativi.",
    ),
    "en": (
        "hi {first}, sorry about that! We've opened a claim for order {order}.",
        "thanks {first}! We grind the {product} for moka pots too, we'll prepare it.",
        "{first}, returns are free: we'll e-mail you the label today.",
        "sure {first}, we ship to Switzerland in 3-4 working days.",
    ),
}
SUBJECTS = {"it": "Ordine {order}", "en": "Order {order}"}


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One of the brand's channels and the share of conversations it gets."""

    key: str
    name: str
    network: str
    kind: MessageKind
    share: float
    brand: NormalizedAuthor


CHANNELS = (
    ChannelSpec(
        "x",
        "Caffè Aurora su X",
        "twitter",
        "mention",
        0.35,
        NormalizedAuthor("twitter", "900000001", "caffeaurora", BRAND, is_brand=True),
    ),
    ChannelSpec(
        "mastodon",
        "Mastodon",
        "mastodon",
        "mention",
        0.15,
        NormalizedAuthor(
            "mastodon",
            "https://mastodon.uno/users/caffeaurora",
            "caffeaurora",
            BRAND,
            is_brand=True,
        ),
    ),
    ChannelSpec(
        "instagram",
        "Instagram",
        "instagram",
        "comment",
        0.25,
        NormalizedAuthor("instagram", "ig-caffeaurora", "caffeaurora", BRAND, is_brand=True),
    ),
    ChannelSpec(
        "email",
        "E-mail ciao@caffeaurora.it",
        "email",
        "email",
        0.25,
        NormalizedAuthor(
            "email", "ciao@caffeaurora.it", "ciao@caffeaurora.it", BRAND, is_brand=True
        ),
    ),
)


_conversations = cast(Table, Conversation.__table__)


def workspace_name(messages: int, conversations: int) -> str:
    """The marker: what a database must hold to be reused."""
    return f"Inbox load v{DATA_VERSION}: {messages} messages, {conversations} conversations"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who writes to the brand, in one language, on every network."""

    number: int
    first: str
    last: str
    language: str
    email_shared: bool  # gives the same e-mail on every network: one contact

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}.{self.number}@example.com".lower()

    def author(self, network: str) -> NormalizedAuthor:
        name = f"{self.first} {self.last}"
        handle = f"{self.first}{self.last}{self.number}".lower()
        shared = self.email if self.email_shared or network == "email" else None
        if network == "email":
            return NormalizedAuthor("email", self.email, self.email, name, email=self.email)
        external_id = {
            "twitter": str(10_000_000 + self.number),
            "mastodon": f"https://social.example/users/{handle}",
        }.get(network, f"ig-{handle}")
        return NormalizedAuthor(network, external_id, handle, name, email=shared)


def make_person(rng: random.Random, number: int) -> Person:
    """Person ``number``: Italian or English; every third shares one e-mail everywhere."""
    language = "it" if rng.random() < 0.6 else "en"
    firsts, lasts = (
        (FIRST_NAMES_IT, LAST_NAMES_IT) if language == "it" else (FIRST_NAMES_EN, LAST_NAMES_EN)
    )
    return Person(number, rng.choice(firsts), rng.choice(lasts), language, number % 3 == 0)


def conversation_lengths(rng: random.Random, messages: int, conversations: int) -> list[int]:
    """``conversations`` lengths of at least 1 that add up to exactly ``messages``."""
    base, extra = divmod(messages, conversations)
    lengths = [base + (1 if i < extra else 0) for i in range(conversations)]
    for i in range(conversations):  # move messages around, keeping the total
        j = rng.randrange(conversations)
        moved = rng.randint(0, lengths[i] - 1)
        lengths[i] -= moved
        lengths[j] += moved
    return lengths


@dataclass(slots=True)
class Planned:
    """One conversation's messages, and what happens to it after ingest."""

    channel: str
    messages: list[NormalizedMessage]
    resolution: tuple[str, datetime] | None  # the reason and when, if resolved
    assign: bool


def _directions(length: int, awaiting: bool) -> list[bool]:
    """Inbound (True) or not, per message: the person opens; the brand answers in turn."""
    inbound = [k % 2 == 0 for k in range(length)]
    inbound[-1] = awaiting or length == 1
    return inbound


def plan_conversation(
    rng: random.Random,
    number: int,
    length: int,
    person: Person,
    spec: ChannelSpec,
    now: datetime,
) -> Planned:
    """The messages of conversation ``number``, threaded by ``in_reply_to``."""
    roll = rng.random()  # under 0.35 awaits a reply; from 0.80 resolved, unanswered to 0.86
    awaiting = roll < 0.35 or (0.80 <= roll < 0.86)
    assign = rng.random() < 0.1
    language = person.language
    values = {
        "order": str(rng.randrange(10_000, 99_999)),
        "product": rng.choice(PRODUCTS),
        "city": rng.choice(CITIES),
        "first": person.first,
    }
    kind: MessageKind = "dm" if spec.key == "x" and rng.random() < 0.3 else spec.kind
    subject = SUBJECTS[language].format(**values) if kind == "email" else None
    moment = now - timedelta(seconds=rng.randrange(3600, HISTORY_DAYS * 86_400))
    person_author = person.author(spec.network)
    messages: list[NormalizedMessage] = []
    parent: str | None = None
    for k, inbound in enumerate(_directions(length, awaiting)):
        external_id = f"<b{number}.{k}@mail.example>" if kind == "email" else f"b{number}.{k}"
        pool = (OPENERS if k == 0 else FOLLOW_UPS) if inbound else REPLIES
        text = rng.choice(pool[language]).format(**values)
        moment = min(moment + timedelta(seconds=rng.randrange(120, 6 * 3600)), now)
        messages.append(
            NormalizedMessage(
                external_id=external_id,
                author=person_author if inbound else spec.brand,
                created_at=moment,
                text=text,
                kind=kind if k == 0 or kind in ("dm", "email") else "reply",
                direction="inbound" if inbound else "outbound",
                in_reply_to=parent,
                subject=subject if k == 0 else (f"Re: {subject}" if subject else None),
                language=language,
            )
        )
        parent = external_id
    resolution = None
    if roll >= 0.80:
        answered = messages[-1].direction == "outbound"
        reason = "answered" if answered else UNANSWERED_REASONS[number % len(UNANSWERED_REASONS)]
        resolution = (reason, min(moment + timedelta(minutes=rng.randrange(5, 600)), now))
    return Planned(spec.key, messages, resolution, assign)


def plan(messages: int, conversations: int, now: datetime, seed: int = 11) -> Iterator[Planned]:
    """Every conversation of the benchmark inbox, in a deterministic order."""
    rng = random.Random(seed)
    people = [make_person(rng, n) for n in range(max(1, conversations // 3))]
    weights = [spec.share for spec in CHANNELS]
    for number, length in enumerate(conversation_lengths(rng, messages, conversations)):
        spec = rng.choices(CHANNELS, weights)[0]
        yield plan_conversation(rng, number, length, rng.choice(people), spec, now)


@dataclass(slots=True)
class _Loader:
    """Buffers conversations per channel and stores each full buffer in one transaction."""

    sessions: sessionmaker[Session]
    channels: dict[str, Channel]
    agent_id: int
    batch_size: int
    progress: Callable[[int], None]
    stored: int = 0
    buffers: dict[str, list[Planned]] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    identities: dict[str, dict[IdentityKey, ResolvedIdentity]] = field(default_factory=dict)
    batches: int = 0

    def add(self, item: Planned) -> None:
        self.buffers.setdefault(item.channel, []).append(item)
        self.pending[item.channel] = self.pending.get(item.channel, 0) + len(item.messages)
        if self.pending[item.channel] >= self.batch_size:
            self.flush(item.channel)

    def flush(self, key: str) -> None:
        planned = self.buffers.pop(key, [])
        self.pending[key] = 0
        if not planned:
            return
        known = self.identities.setdefault(key, {})
        with transaction(self.sessions, write_lock=True) as session:
            channel = self.channels[key]
            result = ingest(session, channel, [m for p in planned for m in p.messages], known)
            _resolve(session, channel, [p for p in planned if p.resolution], self.agent_id)
            _assign(session, channel.id, [p for p in planned if p.assign], self.agent_id)
        if len(known) > IDENTITY_CACHE_LIMIT:
            known.clear()
        known.update(result.identities)
        self.stored += result.imported
        self.progress(self.stored)
        self.batches += 1
        if self.batches & (self.batches - 1) == 0:  # after batches 1, 2, 4, 8, ...
            with transaction(self.sessions) as session:
                refresh_statistics(session, GROWING_TABLES)


def _conversations_of(session: Session, channel_id: int, planned: list[Planned]) -> Any:
    """The conversations whose first messages are ``planned``'s, as a subquery."""
    roots = [p.messages[0].external_id for p in planned]
    return (
        select(Message.conversation_id)
        .where(Message.channel_id == channel_id)
        .where(is_in(session, Message.external_id, roots))
    )


def _resolve(session: Session, channel: Channel, planned: list[Planned], by: int) -> None:
    """What ``do_resolve`` writes, for many conversations at once: the conversations'
    resolution and a ``resolved`` fact each, with the reason and what was left unanswered."""
    resolutions = {p.messages[0].external_id: p.resolution for p in planned if p.resolution}
    for chunk in chunked(list(resolutions)):
        rows = session.execute(
            select(Message.external_id, Conversation.id, Conversation.awaiting_since)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.channel_id == channel.id)
            .where(is_in(session, Message.external_id, chunk))
        ).all()
        updates, facts = [], []
        for root, conversation_id, awaiting in rows:
            reason, moment = resolutions[root]
            updates.append(("resolved", moment, reason, None, None, None, None, conversation_id))
            detail = {
                "reason": reason,
                "unanswered_since": awaiting.isoformat() if awaiting else None,
                "by": by,
            }
            where = (channel.workspace_id, channel.id, conversation_id, None)
            facts.append((*where, "resolved", moment, None, detail))
        bulk_update(session, _conversations, RESOLVED_COLUMNS, updates)
        do_record_detailed_events(session, facts)


def _assign(session: Session, channel_id: int, planned: list[Planned], agent_id: int) -> None:
    """What ``do_assign`` writes, for many conversations at once."""
    for chunk in chunked(planned):
        session.execute(
            update(Conversation)
            .where(Conversation.id.in_(_conversations_of(session, channel_id, chunk)))
            .values(assignee_id=agent_id),
            execution_options={"synchronize_session": False},
        )


def load(
    sessions: sessionmaker[Session],
    messages: int,
    conversations: int,
    batch_size: int,
    progress: Callable[[int], None],
) -> None:
    """Create the workspace, its channels and agent, then ingest every planned conversation.

    ``progress`` hears how many messages are stored after every batch.
    """
    with transaction(sessions) as session:
        workspace = do_create_workspace(
            session, SLUG, workspace_name(messages, conversations), actor=ACTOR
        )
        channels = {
            spec.key: do_get_or_create_channel(
                session, workspace.id, spec.name, spec.network, actor=ACTOR
            )
            for spec in CHANNELS
        }
        agent = do_create_user(session, AGENT_EMAIL, "Bench Agent", AGENT_PASSWORD, actor=ACTOR)
        do_add_member(session, workspace.id, agent.id, "agent", actor=ACTOR)
    loader = _Loader(sessions, channels, agent.id, batch_size, progress)
    for item in plan(messages, conversations, utcnow()):
        loader.add(item)
    for spec in CHANNELS:
        loader.flush(spec.key)
    with transaction(sessions) as session:
        refresh_statistics(session, GROWING_TABLES)


def counts(sessions: sessionmaker[Session]) -> tuple[str, int, int] | None:
    """The benchmark workspace's name, messages and conversations; ``None`` if absent."""
    with sessions() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.slug == SLUG))
        if workspace is None:
            return None
        stored = session.scalar(
            select(func.count()).select_from(Message).where(Message.workspace_id == workspace.id)
        )
        threads = session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.workspace_id == workspace.id)
        )
        return workspace.name, stored or 0, threads or 0


@dataclass(frozen=True, slots=True)
class Access:
    """What the clients need: the workspace, an API token and every conversation id."""

    slug: str
    token: str
    conversation_ids: list[int]


def access(sessions: sessionmaker[Session]) -> Access:
    """A fresh API token for the agent (tokens are shown once) and the conversation ids."""
    with transaction(sessions) as session:
        workspace = session.scalars(select(Workspace).where(Workspace.slug == SLUG)).one()
        member = session.scalars(
            select(Member)
            .join(User, User.id == Member.user_id)
            .where(Member.workspace_id == workspace.id, User.email == AGENT_EMAIL)
        ).one()
        token = do_create_api_token(session, member, "inbox load benchmark", actor=ACTOR)
        ids = list(
            session.scalars(
                select(Conversation.id).where(Conversation.workspace_id == workspace.id)
            )
        )
    return Access(SLUG, token, ids)
