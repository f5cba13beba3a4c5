"""The demo's conversations: scripts, people and times turned into normalized messages.

Pure: it takes the seeded generator and the moment of loading. Every conversation draws
the same random numbers whatever that moment is, so ids and texts are identical on every
run of one seed; only the timestamps follow the clock (and the turns that would fall in
the future are left out, so the newest threads end with the customer still waiting).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dialoga.channels.base import MessageKind, NormalizedAuthor, NormalizedMessage
from dialoga.demo.content import (
    AGENTS,
    BLENDS,
    BLOG_HOST,
    BRAND,
    BRAND_PLACE,
    BRAND_SITE,
    GRINDER,
    Mode,
    Phrasebook,
    Script,
    sentence,
)
from dialoga.demo.people import CHANNEL_BY_KEY, ChannelSpec, Person, make_people, make_spammers

ROME = ZoneInfo("Europe/Rome")
HORIZON_DAYS = 30
BRAND_DELAY_MINUTES = {
    "fast": (3, 45),
    "normal": (60, 360),
    "slow": (420, 1200),
    "late": (1500, 3100),
}
BRAND_DELAY_WEIGHTS = (40, 33, 17, 10)
CUSTOMER_DELAY_MINUTES = (4, 480)
OPENING_HOUR, CLOSING_HOUR = 8, 21
DM_SHARE = {"x": 0.35, "mastodon": 0.3}
FIXED_MODE: dict[str, Mode] = {"bluesky": "public", "email": "email", "blog": "blog"}
SPAM_SUBJECTS = {"it": "Hai vinto un buono da 500€!", "en": "Exclusive offer for your business"}
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
KIND_OF_MODE: dict[Mode, MessageKind] = {"dm": "dm", "email": "email", "blog": "comment"}


@dataclass(slots=True)
class Draft:
    """One conversation decided: who, where, what was said, when, and the formulas."""

    seq: int
    person: Person
    channel: ChannelSpec
    mode: Mode
    texts: list[str]
    times: list[datetime]
    subject: str
    agent: str
    formulas: dict[str, str]
    post_slug: str


def plan_messages(
    rng: random.Random, now: datetime
) -> tuple[list[Person], dict[str, list[NormalizedMessage]]]:
    """The people of the demo and every message they exchanged with the brand, by channel."""
    people = make_people(rng)
    messages: dict[str, list[NormalizedMessage]] = {key: [] for key in CHANNEL_BY_KEY}
    seq = 0
    for person in people:
        for key in person.accounts:
            seq += 1
            draft = _draft(rng, person, CHANNEL_BY_KEY[key], seq, now)
            messages[key].extend(render(draft))
    for spammer, key in make_spammers(rng):
        seq += 1
        draft = _spam_draft(rng, spammer, CHANNEL_BY_KEY[key], seq, now)
        messages[key].extend(render(draft))
    return people, messages


def _mode(rng: random.Random, key: str) -> Mode:
    roll = rng.random()
    if key in FIXED_MODE:
        return FIXED_MODE[key]
    return "dm" if roll < DM_SHARE[key] else "public"


def _script(rng: random.Random, book: Phrasebook, mode: Mode) -> Script:
    fitting = [s for s in book.scripts if mode in s.modes]
    return rng.choices(fitting, weights=[s.weight for s in fitting])[0]


def _values(rng: random.Random, person: Person, agent: str) -> dict[str, str]:
    book = person.book
    return {
        "first": person.first,
        "agent": agent,
        "colleague": rng.choice([a for a in AGENTS if a != agent]),
        "order": f"AU-{rng.randint(24000, 31999)}",
        "blend": rng.choice(BLENDS),
        "grinder": GRINDER,
        "days": str(rng.randint(4, 12)),
        "city": rng.choice(book.cities),
        "business": rng.choice(book.businesses),
        "kg": str(rng.choice((5, 8, 10, 15, 20, 30))),
    }


def _formulas(rng: random.Random, book: Phrasebook, values: dict[str, str]) -> dict[str, str]:
    return {
        "brand_greeting": rng.choice(book.brand_greetings).format(**values),
        "brand_signoff": rng.choice(book.brand_signoffs),
        "customer_greeting": rng.choice(book.customer_greetings),
        "customer_signoff": rng.choice(book.customer_signoffs),
        "reply_greeting": rng.choice(book.reply_greetings).format(**values),
    }


def _draft(
    rng: random.Random, person: Person, channel: ChannelSpec, seq: int, now: datetime
) -> Draft:
    book = person.book
    mode = _mode(rng, channel.key)
    script = _script(rng, book, mode)
    thread = rng.choice(script.threads)
    agent = rng.choice(AGENTS)
    values = _values(rng, person, agent)
    start, recent = _start(rng, now)
    planned = _times(rng, start, len(thread))
    keep = _kept_turns(rng, len(thread), recent)
    times = [moment for moment in planned[:keep] if moment <= now - timedelta(minutes=1)]
    return Draft(
        seq=seq,
        person=person,
        channel=channel,
        mode=mode,
        texts=[template.format(**values) for template in thread[: len(times)]],
        times=times,
        subject=rng.choice(script.subjects).format(**values),
        agent=agent,
        formulas=_formulas(rng, book, values),
        post_slug=rng.choice(book.blog_posts)[1],
    )


def _spam_draft(
    rng: random.Random, person: Person, channel: ChannelSpec, seq: int, now: datetime
) -> Draft:
    book = person.book
    start, _ = _start(rng, now)
    values = _values(rng, person, AGENTS[0])
    return Draft(
        seq=seq,
        person=person,
        channel=channel,
        mode=FIXED_MODE.get(channel.key, "public"),
        texts=[rng.choice(book.spam)],
        times=[start],
        subject=SPAM_SUBJECTS[book.language],
        agent=AGENTS[0],
        formulas=_formulas(rng, book, values),
        post_slug=book.blog_posts[0][1],
    )


def _start(rng: random.Random, now: datetime) -> tuple[datetime, bool]:
    """When a conversation began: a waking hour in Rome, more often recently."""
    days_back = int(rng.triangular(0, HORIZON_DAYS, 0))
    minute = rng.randint(7 * 60 + 30, 22 * 60 + 30)
    day = now.astimezone(ROME).date() - timedelta(days=days_back)
    start = (
        datetime(day.year, day.month, day.day, tzinfo=ROME) + timedelta(minutes=minute)
    ).astimezone(UTC)
    if start > now - timedelta(minutes=15):
        start -= timedelta(days=1)
    return start, days_back <= 1


def _times(rng: random.Random, start: datetime, turns: int) -> list[datetime]:
    """When each turn was written; the brand answers at its own pace, in office hours."""
    pace = rng.choices(list(BRAND_DELAY_MINUTES), weights=BRAND_DELAY_WEIGHTS)[0]
    times = [start]
    for turn in range(1, turns):
        low, high = BRAND_DELAY_MINUTES[pace] if turn % 2 else CUSTOMER_DELAY_MINUTES
        moment = times[-1] + timedelta(minutes=rng.uniform(low, high))
        times.append(_office_hours(moment) if turn % 2 else moment)
    return times


def _office_hours(moment: datetime) -> datetime:
    """The same moment if the team is at work in Rome, else the next opening (8:00-21:00)."""
    local = moment.astimezone(ROME)
    if OPENING_HOUR <= local.hour < CLOSING_HOUR:
        return moment
    day = local.date() + timedelta(days=1 if local.hour >= CLOSING_HOUR else 0)
    opening = datetime(day.year, day.month, day.day, OPENING_HOUR, local.minute, tzinfo=ROME)
    return opening.astimezone(UTC)


def _kept_turns(rng: random.Random, turns: int, recent: bool) -> int:
    """How many turns happened: up to a customer turn (awaiting) or a brand one (answered)."""
    awaiting = rng.random() < (0.55 if recent else 0.25)
    customer_turn = rng.choice(range(0, turns, 2))
    full_answer = rng.random() < 0.7
    brand_turns = range(1, turns, 2)
    if awaiting or not brand_turns:
        return customer_turn + 1
    brand_turn = brand_turns[-1] if full_answer else rng.choice(brand_turns)
    return brand_turn + 1


def render(draft: Draft) -> list[NormalizedMessage]:
    """The draft's turns as the network would deliver them, threaded."""
    messages: list[NormalizedMessage] = []
    for turn, (text, created_at) in enumerate(zip(draft.texts, draft.times, strict=True)):
        inbound = turn % 2 == 0
        author = draft.person.accounts[draft.channel.key] if inbound else draft.channel.brand
        external_id = _message_id(draft, turn, author)
        earlier = [m.external_id for m in messages]
        messages.append(
            NormalizedMessage(
                external_id=external_id,
                author=author,
                created_at=created_at,
                text=_dress(draft, turn, text),
                kind=_kind(draft.mode, turn),
                direction="inbound" if inbound else "outbound",
                in_reply_to=earlier[-1] if earlier and draft.mode != "dm" else None,
                references=tuple(earlier) if draft.mode == "email" else (),
                thread_key=_dm_thread(draft) if draft.mode == "dm" else None,
                subject=_subject(draft, turn),
                language=draft.person.book.language,
                url=_url(draft, author, external_id),
            )
        )
    return messages


def _kind(mode: Mode, turn: int) -> MessageKind:
    if mode == "public":
        return "mention" if turn == 0 else "reply"
    return KIND_OF_MODE[mode]


def _dress(draft: Draft, turn: int, text: str) -> str:
    """Add what each medium puts around the words: mentions, greetings, signatures."""
    person, forms = draft.person, draft.formulas
    if turn % 2 == 0:
        if draft.mode == "email":
            if turn == 0:
                return (
                    f"{forms['customer_greeting']}\n\n{sentence(text)}\n\n"
                    f"{forms['customer_signoff']}\n{person.full_name}"
                )
            return f"{forms['reply_greeting']}\n\n{sentence(text)}\n\n{person.first}"
        mention = f"{draft.channel.handle} " if draft.mode == "public" else ""
        return mention + sentence(text)
    if draft.mode == "email":
        return (
            f"{forms['brand_greeting']}\n\n{sentence(text)}\n\n{forms['brand_signoff']}\n"
            f"{draft.agent}\n{BRAND} · {BRAND_PLACE}\n{BRAND_SITE}"
        )
    opening = f"{forms['brand_greeting']} {text}" if turn == 1 else sentence(text)
    mention = f"@{person.accounts[draft.channel.key].handle} " if draft.mode == "public" else ""
    return f"{mention}{opening} – {draft.agent}"


def _subject(draft: Draft, turn: int) -> str | None:
    if draft.mode != "email":
        return None
    return draft.subject if turn == 0 else f"Re: {draft.subject}"


def _digest(*parts: object) -> int:
    data = "/".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _tid(number: int) -> str:
    """A Bluesky record key: 13 characters of sortable base32."""
    chars = []
    for _ in range(13):
        number, digit = divmod(number, 32)
        chars.append(TID_ALPHABET[digit])
    return "3" + "".join(reversed(chars))[1:]


def _message_id(draft: Draft, turn: int, author: NormalizedAuthor) -> str:
    """A deterministic id in the shape the channel's network uses."""
    key, seq = draft.channel.key, draft.seq
    if key == "x":
        return str(1_795_118_000_000_000_000 + seq * 9_973_000_000 + turn * 1_000_003)
    if key == "mastodon":
        return str(112_405_000_000_000_000 + seq * 99_991_000 + turn * 7_919)
    if key == "bluesky":
        return f"at://{author.external_id}/app.bsky.feed.post/{_tid(_digest(seq, turn))}"
    if key == "email":
        domain = author.external_id.rsplit("@", 1)[-1]
        return f"<{_digest(seq, turn):016x}.{seq}.{turn}@{domain}>"
    return str(3_100 + seq * 10 + turn)


def _dm_thread(draft: Draft) -> str:
    brand_id = draft.channel.brand.external_id
    person_id = draft.person.accounts[draft.channel.key].external_id
    return (
        f"{brand_id}-{person_id}" if draft.channel.key == "x" else f"{_digest(brand_id, person_id)}"
    )


def _url(draft: Draft, author: NormalizedAuthor, external_id: str) -> str | None:
    key, handle = draft.channel.key, author.handle or ""
    if draft.mode in ("dm", "email"):
        return None
    if key == "x":
        return f"https://x.com/{handle}/status/{external_id}"
    if key == "mastodon":
        user, _, instance = handle.partition("@")
        return f"https://{instance}/@{user}/{external_id}"
    if key == "bluesky":
        return f"https://bsky.app/profile/{handle}/post/{external_id.rsplit('/', 1)[-1]}"
    return f"https://{BLOG_HOST}/{draft.post_slug}/#comment-{external_id}"
