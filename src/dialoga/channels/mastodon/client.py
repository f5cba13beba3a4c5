"""Mastodon's REST API v1 over HTTP: the few calls the connector and the sign-in flow make.

Network I/O only: each method returns the decoded JSON (and, for followers, the next
page named by the ``Link`` header). Requests go through ``core.fetch.guarded_client`` (the
instance address is typed by a person) and answers are read by ``channels.http``: 5xx
and unreachable servers are ``NetworkUnavailableError``, 429 is ``RateLimitedError``, 401
is ``AuthExpiredError``. Other refusals carry Mastodon's own ``error`` text: on a read a
403 (a scope missing, a disabled login) is ``AuthExpiredError`` too, anything else a
``ConnectorError``; on a send every 4xx is ``SendRefusedError``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    NetworkUnavailableError,
    SendRefusedError,
)
from dialoga.channels.http import json_of, request
from dialoga.channels.mastodon.parse import error_reason
from dialoga.core.fetch import FetchFailedError, FetchPolicy, FetchRefusedError, guarded_client

USER_AGENT = "Dialoga"
# 30 is the most every Mastodon version gives at once (4.1 raised it to 80): a page
# this full means more may be waiting.
NOTIFICATIONS_PAGE = 30
FOLLOWERS_PAGE = 80


def instance_url(value: Any) -> str:
    """The base address of a Mastodon server, from what a person typed ("mastodon.social",
    "https://mastodon.social/"); ``ConnectorError`` when it is not one."""
    text = value.strip() if isinstance(value, str) else ""
    if text and "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.path.strip("/")
        or parts.query
    ):
        raise ConnectorError(
            "a Mastodon channel needs the address of its server in config 'instance', "
            'such as "https://mastodon.social"'
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


class MastodonApi:
    """One instance's API, with or without a user's access token; use it in ``with``."""

    def __init__(self, instance: str, policy: FetchPolicy, token: str | None = None) -> None:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = guarded_client(policy, base_url=instance, headers=headers)

    def __enter__(self) -> MastodonApi:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._http.close()

    # --- reads -------------------------------------------------------------------------

    def verify_credentials(self) -> Any:
        """The Account entity of the token's owner."""
        what = "Mastodon account (verify_credentials)"
        return self._json("GET", "/api/v1/accounts/verify_credentials", what)

    def notifications(self, min_id: str | None) -> Any:
        """Mention notifications: the newest page, or the page right after ``min_id``;
        with those the account's notification policy filters out (since 4.3 private
        mentions from strangers are), which a brand must still answer."""
        params: list[tuple[str, str | int]] = [
            ("types[]", "mention"),
            ("include_filtered", "true"),
            ("limit", NOTIFICATIONS_PAGE),
        ]
        if min_id is not None:
            params.append(("min_id", min_id))
        return self._json("GET", "/api/v1/notifications", "Mastodon notifications", params=params)

    def followers(self, account: str, max_id: str | None) -> tuple[Any, str | None]:
        """A page of the account's followers and the ``max_id`` of the next page (from
        the ``Link`` header; follow ids appear nowhere else), or None after the last."""
        params: dict[str, str | int] = {"limit": FOLLOWERS_PAGE}
        if max_id is not None:
            params["max_id"] = max_id
        path = f"/api/v1/accounts/{quote(account, safe='')}/followers"
        response = self._call("GET", path, "Mastodon followers", params=params)
        return self._read(response, "Mastodon followers"), _link_parameter(
            response, "next", "max_id"
        )

    # --- writes ------------------------------------------------------------------------

    def parent_status(self, status_id: str) -> Any:
        """The status a reply answers; a refusal (deleted, hidden) is ``SendRefusedError``."""
        path = f"/api/v1/statuses/{quote(status_id, safe='')}"
        return self._json("GET", path, "the Mastodon status answered", SendRefusedError)

    def post_status(self, body: dict[str, str], key: str) -> Any:
        """Publish a status; Mastodon keeps ``key`` an hour and posts it only once."""
        return self._json(
            "POST",
            "/api/v1/statuses",
            "Mastodon reply",
            SendRefusedError,
            json=body,
            headers={"Idempotency-Key": key},
        )

    def create_app(self, form: dict[str, str]) -> Any:
        """Register an application (``POST /api/v1/apps``)."""
        return self._json("POST", "/api/v1/apps", "Mastodon app registration", data=form)

    def obtain_token(self, form: dict[str, str]) -> Any:
        """Trade an authorisation code for a token; a refused code is ``AuthExpiredError``."""
        what = "Mastodon sign-in"
        return self._json("POST", "/oauth/token", what, AuthExpiredError, data=form)

    # --- reading answers ---------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        what: str,
        refused: type[ConnectorError] = ConnectorError,
        **options: Any,
    ) -> Any:
        return self._read(self._call(method, path, what, **options), what, refused)

    def _call(self, method: str, path: str, what: str, **options: Any) -> httpx.Response:
        try:
            return request(self._http, method, path, what, **options)
        except FetchFailedError as error:
            raise NetworkUnavailableError(f"{what}: {error}") from None
        except FetchRefusedError as error:
            raise ConnectorError(f"{what}: {error}") from None

    @staticmethod
    def _read(
        response: httpx.Response, what: str, refused: type[ConnectorError] = ConnectorError
    ) -> Any:
        if response.is_success:
            return json_of(response, what)
        status = response.status_code
        reason = error_reason(_body(response)) or f"HTTP {status}"
        if status == 403 and refused is ConnectorError:
            refused = AuthExpiredError
        raise refused(f"{what}: Mastodon answered {status}: {reason}")


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _link_parameter(response: httpx.Response, relation: str, name: str) -> str | None:
    """One query parameter of the ``Link`` header's link of ``relation``."""
    url = response.links.get(relation, {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None
