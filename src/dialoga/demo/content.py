"""Shapes of the demo's text templates, and the words both languages share.

A ``Script`` is one topic (an order question, a broken grinder...) written as a few
alternative threads; each thread alternates customer and brand turns, customer first.
Templates name their blanks with ``str.format`` fields: {first}, {agent}, {colleague},
{order}, {blend}, {grinder}, {days}, {city}, {business}, {kg}. The languages themselves
live in ``content_it`` and ``content_en``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["public", "dm", "email", "blog"]

BRAND = "Caffè Aurora"
BRAND_PLACE = "Torrefazione artigianale · Trieste"
BRAND_SITE = "www.caffeaurora.it"
BLOG_HOST = "blog.caffeaurora.it"

BLENDS = ("Carso", "Dolce Risveglio", "Sidamo Riserva", "Vulcano Nero", "San Giusto")
GRINDER = "Aurora M2"
AGENTS = ("Marta", "Luca", "Giorgia")
MASTODON_INSTANCES = (
    "mastodon.uno",
    "mastodon.social",
    "livellosegreto.it",
    "mastodon.online",
    "fosstodon.org",
)


@dataclass(frozen=True, slots=True)
class Script:
    """One topic: the modes it fits, e-mail subjects, and alternative threads."""

    topic: str
    modes: tuple[Mode, ...]
    subjects: tuple[str, ...]
    threads: tuple[tuple[str, ...], ...]
    weight: int = 2


@dataclass(frozen=True, slots=True)
class Phrasebook:
    """Everything written in one language: scripts, spam, names and the mail formulas.

    ``brand_greetings`` open a brand's first reply (the template goes on in lower case);
    ``reply_greetings`` open a customer's later e-mail to the agent who answered.
    """

    language: str
    scripts: tuple[Script, ...]
    spam: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[str, ...]
    businesses: tuple[str, ...]
    brand_greetings: tuple[str, ...]
    brand_signoffs: tuple[str, ...]
    customer_greetings: tuple[str, ...]
    customer_signoffs: tuple[str, ...]
    reply_greetings: tuple[str, ...]
    blog_posts: tuple[tuple[str, str], ...]
    bios: tuple[str, ...]
    mail_domains: tuple[str, ...]


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case (templates may start in lower case)."""
    return text[:1].upper() + text[1:]
