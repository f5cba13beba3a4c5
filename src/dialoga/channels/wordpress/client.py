"""The WordPress REST API (v2) calls Dialoga makes: who the brand is, approved comments by
date, one comment, a new comment. Network I/O only, through the guarded client, with HTTP
Basic auth from an Application Password; answers come back as decoded JSON.

``channels/http.py`` reads 401 (``incorrect_password``, ``rest_not_logged_in``), 429 and
5xx; any other answer that is not a success is a ``ConnectorError`` carrying WordPress'
own reason, or, for a new comment, a ``SendRefusedError`` (``comment_flood``, "slow
down", is a ``RateLimitedError`` instead: the same reply may go a minute later).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from dialoga.channels.base import ConnectorError, RateLimitedError, SendRefusedError
from dialoga.channels.http import json_of, request
from dialoga.channels.wordpress.parse import error_code, error_reason
from dialoga.core.fetch import FetchPolicy, guarded_client

PER_PAGE = 100
FLOOD_WAIT_SECONDS = 60.0
USER_AGENT = "Dialoga (WordPress comments)"


class WordPressClient:
    """Calls to one site's REST API as one user; ``site`` is the blog's base URL."""

    def __init__(self, site: str, username: str, password: str, policy: FetchPolicy) -> None:
        self.api = f"{site.rstrip('/')}/wp-json/wp/v2"
        self._auth = httpx.BasicAuth(username, password)
        self._policy = policy

    def __repr__(self) -> str:
        return f"WordPressClient({self.api!r})"

    def me(self) -> Any:
        """``GET /users/me``: the user the Application Password belongs to."""
        return self._read("GET", "/users/me", "WordPress users/me")

    def comments(self, after: datetime, page: int) -> tuple[Any, int | None]:
        """One page of approved comments written after ``after``, oldest first, and the
        number of pages (``X-WP-TotalPages``; None when the site did not say)."""
        params = {
            "orderby": "date_gmt",
            "order": "asc",
            "after": after.astimezone(UTC).isoformat(timespec="seconds"),
            "per_page": PER_PAGE,
            "page": page,
            "status": "approve",
        }
        response = self._call("GET", "/comments", "WordPress comments", params=params)
        _expect_success(response, "WordPress comments")
        pages = response.headers.get("x-wp-totalpages", "").strip()
        return json_of(response, "WordPress comments"), int(pages) if pages.isdigit() else None

    def comment(self, comment_id: int) -> Any:
        """``GET /comments/<id>``; a comment that is gone refuses the reply to it."""
        what = f"WordPress comment {comment_id}"
        response = self._call("GET", f"/comments/{comment_id}", what)
        if response.status_code == 404:
            reason = error_reason(_body(response))
            raise SendRefusedError(f"{what} cannot be answered: {reason}")
        _expect_success(response, what)
        return json_of(response, what)

    def create_comment(self, post: int, parent: int, content: str) -> Any:
        """``POST /comments``: a reply under comment ``parent`` of post ``post``."""
        what = "WordPress new comment"
        body = {"post": post, "parent": parent, "content": content}
        response = self._call("POST", "/comments", what, json=body)
        if 400 <= response.status_code < 500:
            payload = _body(response)
            if error_code(payload) == "comment_flood":
                raise RateLimitedError(
                    f"{what}: {error_reason(payload)}", retry_after=FLOOD_WAIT_SECONDS
                )
            raise SendRefusedError(f"WordPress refused the reply: {error_reason(payload)}")
        _expect_success(response, what)
        return json_of(response, what)

    def _read(self, method: str, path: str, what: str) -> Any:
        response = self._call(method, path, what)
        _expect_success(response, what)
        return json_of(response, what)

    def _call(self, method: str, path: str, what: str, **options: Any) -> httpx.Response:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        with guarded_client(self._policy, auth=self._auth, headers=headers) as client:
            return request(client, method, f"{self.api}{path}", what, **options)


def _expect_success(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if response.is_redirect:
        where = response.headers["location"][:200]
        raise ConnectorError(f"{what}: the site moved ({status}) to {where}; set that address")
    raise ConnectorError(f"{what}: the site answered {status}: {error_reason(_body(response))}")


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
