"""Synthetic data in the "Customer Support on Twitter" CSV format, for benchmarks.

Conversations look like the real file: a customer writes to a brand, the brand replies,
sometimes the customer answers back and the brand again. Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dialoga.channels.importers.twcs import COLUMNS

BRANDS = [f"brand_{i:02d}" for i in range(20)]
OPENERS = [
    "@{brand} my order still hasn't arrived and nobody answers, what is going on?",
    "@{brand} il mio ordine non è ancora arrivato, potete aiutarmi?",
    "@{brand} thanks for the quick fix yesterday, great service!",
    "@{brand} la macchina si è rotta dopo due settimane, pessimo",
    "@{brand} do you ship to Switzerland? Looking for a wholesale price",
]
REPLIES = [
    "@{customer} Sorry to hear that! Please DM us your order number and we'll check it.",
    "@{customer} Ciao, ci dispiace: scrivici in privato il numero d'ordine e verifichiamo.",
    "@{customer} Thank you so much, we're glad it worked out!",
    "@{customer} We do! Our team will email you the details today.",
]
FOLLOW_UPS = ["@{brand} done, sent it", "@{brand} fatto, grazie", "@{brand} still waiting..."]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S +0000 %Y")


def rows(count: int, seed: int = 7) -> Iterator[list[str]]:
    """``count`` rows of conversations of 1 to 4 turns, in file order."""
    rng = random.Random(seed)
    moment = datetime(2017, 10, 1, tzinfo=UTC)
    tweet_id = 1
    produced = 0
    while produced < count:
        brand = rng.choice(BRANDS)
        customer = str(100_000 + rng.randrange(200_000))
        turns = min(rng.choice((1, 2, 2, 3, 4)), count - produced)
        parent = ""
        for turn in range(turns):
            inbound = turn % 2 == 0
            moment += timedelta(seconds=rng.randrange(1, 90))
            if inbound:
                template = OPENERS if turn == 0 else FOLLOW_UPS
                author, text = customer, rng.choice(template).format(brand=brand)
            else:
                author, text = brand, rng.choice(REPLIES).format(customer=customer)
            yield [
                str(tweet_id),
                author,
                str(inbound),
                _stamp(moment),
                text,
                str(tweet_id + 1) if turn < turns - 1 else "",
                parent,
            ]
            parent = f"{tweet_id}.0"
            tweet_id += 1
        produced += turns


def write_csv(path: Path, count: int, seed: int = 7) -> None:
    """Write ``count`` rows to ``path``, streaming."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows(count, seed))
