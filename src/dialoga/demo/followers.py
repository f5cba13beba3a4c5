"""The demo's followers: about 200 profiles per channel for the audience audit to sort.

A mix the audit should tell apart: real and engaged people (the demo's own contacts
among them), real but passive ones, accounts silent for years, and bought ones (no
posts, default avatar, following thousands, followed by nobody, digits in the handle,
created last month).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from dialoga.channels.base import NormalizedProfile
from dialoga.demo.content import MASTODON_INSTANCES
from dialoga.demo.content_en import EN
from dialoga.demo.content_it import IT
from dialoga.demo.people import ChannelSpec, Person, ascii_slug, twitter_handle

FOLLOWERS_PER_CHANNEL = 200
MIX = {"engaged": 70, "passive": 50, "inactive": 40, "bought": 40}


def make_followers(
    rng: random.Random, channel: ChannelSpec, people: list[Person], now: datetime
) -> list[NormalizedProfile]:
    """The channel's followers: its contacts first, then a generated crowd of each kind."""
    used: set[str] = set()
    profiles = []
    for person in people:
        account = person.accounts.get(channel.key)
        if account is not None and account.handle:
            used.add(account.handle)
            profile = _stats(
                rng, "engaged", now, _profile(channel, account.external_id, account.handle)
            )
            profile.display_name, profile.location = (
                person.full_name,
                rng.choice(person.book.cities),
            )
            profiles.append(profile)
    kinds = [kind for kind, count in MIX.items() for _ in range(count)]
    rng.shuffle(kinds)
    for kind in kinds[: FOLLOWERS_PER_CHANNEL - len(profiles)]:
        profiles.append(_stranger(rng, channel, kind, now, used))
    return profiles


def _profile(channel: ChannelSpec, external_id: str, handle: str) -> NormalizedProfile:
    if channel.network == "mastodon":
        user, _, instance = handle.partition("@")
        url = f"https://{instance}/@{user}"
    else:
        url = f"https://x.com/{handle}"
    return NormalizedProfile(
        network=channel.network,
        external_id=external_id,
        handle=handle,
        profile_url=url,
        verified=False,
        declared_bot=False,
    )


def _stranger(
    rng: random.Random, channel: ChannelSpec, kind: str, now: datetime, used: set[str]
) -> NormalizedProfile:
    """A follower the brand has never talked to, of the given kind."""
    book = IT if rng.random() < 0.6 else EN
    first, last = rng.choice(book.first_names), rng.choice(book.last_names)
    if kind == "bought":
        base = f"{ascii_slug(first)}{rng.randint(10**5, 10**8)}"
    else:
        base = twitter_handle(rng, first, last, 13 if channel.network == "twitter" else 30)
    instance = rng.choice(MASTODON_INSTANCES)
    twitter_id = str(rng.randrange(10**8, 2**62))
    while base in used or f"{base}@{instance}" in used:
        base += str(rng.randint(0, 9))
    if channel.network == "mastodon":
        handle, external_id = f"{base}@{instance}", f"https://{instance}/users/{base}"
    else:
        handle, external_id = base, twitter_id
    used.add(handle)
    profile = _stats(rng, kind, now, _profile(channel, external_id, handle))
    city = rng.choice(book.cities)
    profile.display_name = base if kind == "bought" and rng.random() < 0.5 else f"{first} {last}"
    if kind != "bought":
        profile.location = city if rng.random() < 0.7 else None
        profile.bio = rng.choice(book.bios).format(city=city) if rng.random() < 0.75 else None
    return profile


def _stats(
    rng: random.Random, kind: str, now: datetime, profile: NormalizedProfile
) -> NormalizedProfile:
    """Counts, dates and avatar typical of each kind of follower."""
    days = timedelta(days=1)
    if kind == "engaged":
        followers, following, posts = (
            rng.randint(80, 3000),
            rng.randint(100, 900),
            rng.randint(400, 20000),
        )
        created, last_post = (
            now - days * rng.randint(700, 5000),
            now - timedelta(minutes=rng.randint(10, 4320)),
        )
        default_avatar = False
    elif kind == "passive":
        followers, following, posts = rng.randint(5, 200), rng.randint(40, 500), rng.randint(3, 150)
        created, last_post = now - days * rng.randint(300, 4000), now - days * rng.randint(10, 150)
        default_avatar = rng.random() < 0.15
    elif kind == "inactive":
        followers, following, posts = (
            rng.randint(10, 400),
            rng.randint(50, 700),
            rng.randint(20, 1500),
        )
        created, last_post = (
            now - days * rng.randint(1800, 5400),
            now - days * rng.randint(500, 2200),
        )
        default_avatar = rng.random() < 0.3
    else:
        followers, following, posts = rng.randint(0, 9), rng.randint(1500, 5000), 0
        created, last_post = now - days * rng.randint(2, 60), None
        default_avatar = True
    profile.followers_count, profile.following_count, profile.posts_count = (
        followers,
        following,
        posts,
    )
    profile.account_created_at, profile.last_post_at = created, last_post
    profile.default_avatar = default_avatar
    return profile
