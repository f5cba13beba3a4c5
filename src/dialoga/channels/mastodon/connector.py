"""The Mastodon connector: polls the brand account's mentions (replies and direct
messages included), sweeps its followers once a day, and sends replies; plus the OAuth
steps that connect an account (register the app, send the person to authorise, trade
the code for a token, check it).

Cursor: ``{"account_id": <the brand's account id, asked once>, "notifications_since":
<newest notification id stored>, "followers_max_id": <next follower page, during a
sweep>, "followers_swept_at": <ISO time the last sweep ended>}``. A poll reads the page
of mentions right after ``notifications_since`` (the newest page on the first poll) and
says ``more`` when that page was full; then, while a sweep is due or under way, one page
of followers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from dialoga.channels.base import (
    AuthExpiredError,
    NormalizedAuthor,
    NormalizedMessage,
    NormalizedProfile,
    OutgoingReply,
    Poll,
    Sent,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.mastodon import parse
from dialoga.channels.mastodon.client import NOTIFICATIONS_PAGE, MastodonApi, instance_url
from dialoga.core.fetch import FetchPolicy

NETWORK = parse.NETWORK
# Mastodon keeps an Idempotency-Key for an hour and answers a repeat with the status
# it already made.
IDEMPOTENT_SENDS = True
FOLLOWER_SWEEP_EVERY = timedelta(days=1)
CLIENT_NAME = "Dialoga"
SCOPES = "read write"
OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
EARLIEST = "0"  # a notification id before every other


class MastodonConnector:
    """One Mastodon account, on the server named by config ``instance``."""

    idempotent_sends = IDEMPOTENT_SENDS

    def __init__(
        self,
        config: Mapping[str, Any],
        credentials: Mapping[str, Any],
        policy: FetchPolicy,
        clock: Callable[[], datetime],
        handle: str | None = None,
    ) -> None:
        self.config = config
        self.handle = handle  # the brand's own acct: never addressed in its own replies
        self.credentials = credentials
        self.policy = policy
        self.clock = clock
        self.renewed_credentials: dict[str, Any] | None = None

    def poll(self, cursor: dict[str, Any]) -> Poll:
        """One page of mentions, then one page of followers when a sweep is on."""
        state = dict(cursor)
        with self._api() as api:
            brand = _text(state.get("account_id"))
            if brand is None:
                brand = parse.account_id(api.verify_credentials())
                state["account_id"] = brand
            messages, more = _mentions(api, state, brand)
            profiles = self._followers(api, state, brand)
        return Poll(messages=messages, profiles=profiles, cursor=state, more=more)

    def send(self, reply: OutgoingReply) -> Sent:
        """Post ``reply`` as an answer to ``reply.in_reply_to``, seen by no more people
        than the status it answers, and addressed to its author."""
        with self._api() as api:
            parent = api.parent_status(reply.in_reply_to) if reply.in_reply_to else None
            body = reply_body(reply, parent, self.handle)
            return parse.sent_of(api.post_status(body, reply.key))

    def _api(self) -> MastodonApi:
        token = _text(self.credentials.get("access_token"))
        if token is None:
            raise AuthExpiredError("the Mastodon channel has no access token: connect it again")
        return MastodonApi(instance_url(self.config.get("instance")), self.policy, token)

    def _followers(
        self, api: MastodonApi, state: dict[str, Any], brand: str
    ) -> list[NormalizedProfile]:
        page = _text(state.get("followers_max_id"))
        if page is None and not self._sweep_due(state):
            return []
        payload, following = api.followers(brand, page)
        profiles = parse.follower_profiles(payload, self.clock())
        if following is None:
            state.pop("followers_max_id", None)
            state["followers_swept_at"] = self.clock().isoformat()
        else:
            state["followers_max_id"] = following
        return profiles

    def _sweep_due(self, state: Mapping[str, Any]) -> bool:
        swept = _text(state.get("followers_swept_at"))
        try:
            last = None if swept is None else datetime.fromisoformat(swept)
        except ValueError:
            last = None
        if last is None or last.tzinfo is None:
            return True
        return self.clock() - last >= FOLLOWER_SWEEP_EVERY


def _mentions(
    api: MastodonApi, state: dict[str, Any], brand: str
) -> tuple[list[NormalizedMessage], bool]:
    """The page of mentions after the cursor's; True when that page was full."""
    since = _text(state.get("notifications_since"))
    messages, ids = parse.read_notifications(api.notifications(since), brand)
    # after a first poll that found nothing, page forward from the very first mention:
    # everything that arrives from now on is new, and none of it may be skipped
    newest = parse.newest_id(ids, since) or EARLIEST
    state["notifications_since"] = newest
    return messages, since is not None and len(ids) >= NOTIFICATIONS_PAGE


def reply_body(reply: OutgoingReply, parent: Any, brand: str | None = None) -> dict[str, str]:
    """The form of ``POST /api/v1/statuses`` for ``reply``: ``direct`` for a DM, the
    parent's visibility otherwise, and the text opened with ``@acct`` of the person
    answered unless it mentions them already (else they are not notified). A direct
    status reaches only the accounts it mentions, so a DM answers everyone the parent
    mentioned too (a group conversation), but the brand itself."""
    direct = reply.kind == "dm"
    if direct:
        visibility = "direct"
    else:
        visibility = "public" if parent is None else parse.reply_visibility(parent)
    handle = reply.recipient.handle if reply.recipient else None
    if not handle and parent is not None:
        handle = parse.parent_author(parent)
    people = [handle]
    if direct and parent is not None:
        own = (brand or "").lstrip("@").lower()
        people += [acct for acct in parse.mentioned_accts(parent) if acct.lower() != own]
    text = reply.text
    for acct in reversed(list(dict.fromkeys(p for p in people if p))):
        text = addressed(text, acct)
    body = {"status": text, "visibility": visibility}
    if reply.in_reply_to:
        body["in_reply_to_id"] = reply.in_reply_to
    return body


def addressed(text: str, handle: str | None) -> str:
    """``text`` opened with ``@handle`` unless it already mentions that account."""
    acct = (handle or "").strip().lstrip("@")
    if not acct:
        return text
    mention = re.compile(rf"(?<![\w@])@{re.escape(acct)}(?![\w@-]|\.\w)", re.IGNORECASE)
    return text if mention.search(text) else f"@{acct} {text}"


def build(context: ConnectorContext) -> MastodonConnector:
    """The connector of a Mastodon channel: config ``instance``, credentials
    ``access_token`` (``client_id``/``client_secret`` are kept from registration)."""
    return MastodonConnector(
        context.config, context.credentials, context.fetch_policy, context.clock, context.handle
    )


# --- connecting an account (OAuth 2 authorisation code) ---------------------------------


def register_app(
    instance: str, redirect_uri: str, policy: FetchPolicy, website: str | None = None
) -> dict[str, str]:
    """Register Dialoga with the server; ``{"client_id", "client_secret"}`` to keep.
    ``redirect_uri`` is the page the person comes back to, or ``OUT_OF_BAND`` to be shown
    the code to paste (the CLI)."""
    form = {"client_name": CLIENT_NAME, "redirect_uris": redirect_uri, "scopes": SCOPES}
    if website:
        form["website"] = website
    with MastodonApi(instance_url(instance), policy) as api:
        return parse.app_credentials(api.create_app(form))


def authorize_url(instance: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where to send the person to let Dialoga use their account; ``state`` comes back
    with the code and must be checked."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
        }
    )
    return f"{instance_url(instance)}/oauth/authorize?{query}"


def exchange_code(
    instance: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    policy: FetchPolicy,
) -> dict[str, str]:
    """The channel's credentials for an authorisation code: ``access_token`` with the
    app's ``client_id`` and ``client_secret``. A refused code is ``AuthExpiredError``."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
    }
    with MastodonApi(instance_url(instance), policy) as api:
        token = parse.access_token(api.obtain_token(form))
    return {"access_token": token, "client_id": client_id, "client_secret": client_secret}


def verify(instance: str, access_token: str, policy: FetchPolicy) -> NormalizedAuthor:
    """The account an access token acts for (the channel's brand identity)."""
    with MastodonApi(instance_url(instance), policy, access_token) as api:
        account = api.verify_credentials()
    return parse.author_of(account, brand_id=parse.account_id(account))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
