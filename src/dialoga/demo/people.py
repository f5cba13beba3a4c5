"""The demo's cast: the brand's five channels and the people who write to them.

Each person has an e-mail address and one account per channel they use; a few use
several channels, so that linking their identities makes one contact of them. Everything
comes from the seeded random generator: same seed, same people, same ids.
"""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass, field

from dialoga.channels.base import NormalizedAuthor
from dialoga.demo.content import BLOG_HOST, BRAND, MASTODON_INSTANCES, Phrasebook
from dialoga.demo.content_en import EN
from dialoga.demo.content_it import IT

ITALIAN_PEOPLE = 31
ENGLISH_PEOPLE = 24
MULTI_NETWORK_PEOPLE = 10
SINGLE_CHANNEL_WEIGHTS = {"x": 30, "email": 25, "mastodon": 15, "bluesky": 12, "blog": 18}


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One of the brand's channels: its key in the plan, name, network and own account."""

    key: str
    name: str
    network: str
    handle: str
    brand: NormalizedAuthor


CHANNELS = (
    ChannelSpec(
        "x",
        "Caffè Aurora su X",
        "twitter",
        "@caffeaurora",
        NormalizedAuthor("twitter", "1502338845110", "caffeaurora", BRAND, is_brand=True),
    ),
    ChannelSpec(
        "mastodon",
        "Mastodon",
        "mastodon",
        "@caffeaurora@mastodon.uno",
        NormalizedAuthor(
            "mastodon",
            "https://mastodon.uno/users/caffeaurora",
            "caffeaurora@mastodon.uno",
            BRAND,
            is_brand=True,
        ),
    ),
    ChannelSpec(
        "bluesky",
        "Bluesky",
        "bluesky",
        "@caffeaurora.bsky.social",
        NormalizedAuthor(
            "bluesky",
            "did:plc:caffeaurora7q2xw4ktm3v",
            "caffeaurora.bsky.social",
            BRAND,
            is_brand=True,
        ),
    ),
    ChannelSpec(
        "email",
        "E-mail ciao@caffeaurora.it",
        "email",
        "ciao@caffeaurora.it",
        NormalizedAuthor(
            "email",
            "ciao@caffeaurora.it",
            "ciao@caffeaurora.it",
            BRAND,
            email="ciao@caffeaurora.it",
            is_brand=True,
        ),
    ),
    ChannelSpec(
        "blog",
        "Blog",
        "wordpress",
        BLOG_HOST,
        NormalizedAuthor(
            "wordpress",
            "redazione@caffeaurora.it",
            "redazione",
            BRAND,
            email="redazione@caffeaurora.it",
            is_brand=True,
        ),
    ),
)
CHANNEL_BY_KEY = {spec.key: spec for spec in CHANNELS}


@dataclass(slots=True)
class Person:
    """Someone who writes to the brand, with an account on each channel they use."""

    book: Phrasebook
    first: str
    last: str
    email: str
    twitter_id: str
    accounts: dict[str, NormalizedAuthor] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"


def ascii_slug(text: str) -> str:
    """``text`` lower-cased, accents dropped, only letters and digits left."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def random_token(rng: random.Random, length: int) -> str:
    """Lower-case letters and digits, as networks use in their ids."""
    return "".join(rng.choices(string.ascii_lowercase + "234567", k=length))


def make_people(rng: random.Random) -> list[Person]:
    """The cast: Italian and English speakers, the first few on several channels."""
    people = _names(rng, IT, ITALIAN_PEOPLE) + _names(rng, EN, ENGLISH_PEOPLE)
    rng.shuffle(people)
    keys = list(SINGLE_CHANNEL_WEIGHTS)
    for index, person in enumerate(people):
        if index < MULTI_NETWORK_PEOPLE:
            channels = [
                "email",
                *rng.sample(["x", "mastodon", "bluesky", "blog"], rng.choice((1, 2))),
            ]
        else:
            channels = rng.choices(keys, weights=list(SINGLE_CHANNEL_WEIGHTS.values()))
        for key in channels:
            person.accounts[key] = account_for(rng, person, key)
    return people


def _names(rng: random.Random, book: Phrasebook, count: int) -> list[Person]:
    pairs = rng.sample([(f, la) for f in book.first_names for la in book.last_names], count)
    people = []
    for first, last in pairs:
        f, la = ascii_slug(first), ascii_slug(last)
        local = rng.choice((f"{f}.{la}", f"{la}.{f}", f"{f}{la}{rng.randint(1, 99)}"))
        email = f"{local}@{rng.choice(book.mail_domains)}"
        twitter_id = str(rng.randrange(10**8, 2**62))
        people.append(Person(book, first, last, email, twitter_id))
    return people


def twitter_handle(rng: random.Random, first: str, last: str, limit: int = 13) -> str:
    """A handle people would pick: name and surname, sometimes a number (X allows 15)."""
    f, la = ascii_slug(first), ascii_slug(last)
    pattern = rng.choice((f"{f}{la}", f"{f}_{la}", f"{la}{f}", f"{la}_{f}"))
    digits = str(rng.randint(1, 99))
    return pattern[:limit] + (digits if rng.random() < 0.3 else "")


def account_for(rng: random.Random, person: Person, key: str) -> NormalizedAuthor:
    """The person's account on channel ``key``, with the ids that network would use."""
    network = CHANNEL_BY_KEY[key].network
    name = person.full_name
    if key == "x":
        handle = twitter_handle(rng, person.first, person.last)
        return NormalizedAuthor(network, person.twitter_id, handle, name)
    if key == "mastodon":
        user = f"{ascii_slug(person.first)}_{ascii_slug(person.last)}"
        instance = rng.choice(MASTODON_INSTANCES)
        return NormalizedAuthor(
            network, f"https://{instance}/users/{user}", f"{user}@{instance}", name
        )
    if key == "bluesky":
        handle = f"{ascii_slug(person.first)}{ascii_slug(person.last)}.bsky.social"
        return NormalizedAuthor(network, f"did:plc:{random_token(rng, 24)}", handle, name)
    return NormalizedAuthor(
        network, person.email, person.email if key == "email" else name, name, email=person.email
    )


def make_spammers(rng: random.Random) -> list[tuple[Person, str]]:
    """Accounts that only ever send spam, each with the channel it spams."""
    spammers = []
    for key, first, last, book in (
        ("x", "Followers", "Boost", EN),
        ("mastodon", "Trading", "Facile", IT),
        ("blog", "SEO", "Expert", EN),
        ("email", "Premi", "Italia", IT),
    ):
        digits = rng.randint(1000, 99999)
        email = f"{ascii_slug(first)}{digits}@mailbox-{random_token(rng, 5)}.example"
        person = Person(book, first, last, email, str(rng.randrange(10**17, 10**18)))
        person.accounts[key] = account_for(rng, person, key)
        spammers.append((person, key))
    return spammers
