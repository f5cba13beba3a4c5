"""The HTTP calls of the connectors' clients, with one reading of what an answer means.

Every ``client.py`` that speaks HTTP (Mastodon, Bluesky, WordPress, feeds) calls
``request``: a failure to connect or a 5xx is ``NetworkUnavailableError``, 429 is
``RateLimitedError`` with the wait the network asked for, 401 is ``AuthExpiredError``;
other answers are returned for the client to read (a 4xx on a send is usually
``SendRefusedError``). ``json_of`` turns a body that is not JSON into
``MalformedPayloadError``. Clients are built with
``core.fetch.guarded_client``, so instance URLs typed by users cannot reach private
addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from dialoga.channels.base import (
    AuthExpiredError,
    MalformedPayloadError,
    NetworkUnavailableError,
    RateLimitedError,
)

MAX_WAIT_SECONDS = 3600.0
RESET_HEADERS = ("retry-after", "x-ratelimit-reset", "ratelimit-reset")


def request(
    client: httpx.Client, method: str, url: str, what: str, **options: Any
) -> httpx.Response:
    """Send one request; ``what`` names it in error messages ("Mastodon notifications")."""
    try:
        response = client.request(method, url, **options)
    except httpx.TimeoutException:
        raise NetworkUnavailableError(f"{what}: no answer in time") from None
    except httpx.HTTPError as error:
        raise NetworkUnavailableError(f"{what}: cannot connect ({error})") from None
    status = response.status_code
    if status == 429:
        wait = retry_after(response)
        raise RateLimitedError(f"{what}: rate limited (429)", retry_after=wait)
    if status == 401:
        raise AuthExpiredError(
            f"{what}: the credentials were refused (401); authorise the channel again"
        )
    if status >= 500:
        raise NetworkUnavailableError(
            f"{what}: the server answered {status}", retry_after=retry_after(response)
        )
    return response


def json_of(response: httpx.Response, what: str) -> Any:
    """The JSON body of ``response``, or ``MalformedPayloadError`` naming what was asked."""
    try:
        return response.json()
    except ValueError:
        raise MalformedPayloadError(f"{what}: the answer is not JSON") from None


def retry_after(
    answer: httpx.Response | httpx.Headers, now: datetime | None = None
) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or a date), ``X-RateLimit-Reset``
    (a Unix time, or an ISO 8601 date as Mastodon sends it) or ``RateLimit-Reset`` (as
    Bluesky names it); at most an hour. ``answer`` is a response or just its headers
    (``core.fetch.Fetched.headers`` for feeds)."""
    now = now or datetime.now(UTC)
    headers = answer.headers if isinstance(answer, httpx.Response) else answer
    header = next((headers[name] for name in RESET_HEADERS if headers.get(name)), None)
    if not header:
        return None
    header = header.strip()
    wait: float | None = None
    if header.replace(".", "", 1).isdigit():
        number = float(header)
        # a small number is a delay; a large one is a Unix time
        wait = number - now.timestamp() if number > 1e9 else number
    else:
        moment = _date(header)
        wait = None if moment is None else (moment - now).total_seconds()
    return None if wait is None else min(max(wait, 0.0), MAX_WAIT_SECONDS)


def _date(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
