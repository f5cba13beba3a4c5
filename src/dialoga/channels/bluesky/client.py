"""Bluesky's XRPC over HTTP: the session (app password, token refresh) and the calls.

Network I/O only: ``query`` (GET) and ``procedure`` (POST) return decoded JSON. Every call
goes to the account's service (its PDS, ``https://bsky.social`` by default, which
proxies ``app.bsky.*`` to the AppView) through ``core.fetch.guarded_client`` and is read
by ``channels.http``: 5xx and unreachable hosts are ``NetworkUnavailableError``, 429 is
``RateLimitedError``.

Sessions: the stored ``accessJwt`` is used until the server refuses it (an XRPC
``ExpiredToken``/``InvalidToken`` error, or 401); then ``refreshSession`` with the refresh
token, and the call is tried once more. Only when the refresh token is refused too does
the client log in again with the app password (``createSession`` is limited to a few
hundred a day per account, so sessions are reused). A refused login is
``AuthExpiredError``. Each new session is handed to ``on_session`` for the caller to store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    NetworkUnavailableError,
)
from dialoga.channels.bluesky.parse import Session, session_of, xrpc_error
from dialoga.channels.http import json_of, request
from dialoga.core.fetch import FetchFailedError, FetchPolicy, FetchRefusedError, guarded_client

DEFAULT_SERVICE = "https://bsky.social"
USER_AGENT = "Dialoga"
TOKEN_REFUSALS = frozenset({"ExpiredToken", "InvalidToken"})
CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"


@dataclass(frozen=True, slots=True)
class Login:
    """What logs the account in when no session works: handle (or DID) and app password."""

    identifier: str | None
    app_password: str | None = field(repr=False)


class _TokenRefusedError(Exception):
    """The server refused the bearer token: renew the session (never leaves this module)."""


class BlueskyClient:
    """One account's XRPC calls on its service; use it in ``with``."""

    def __init__(
        self,
        service: str,
        policy: FetchPolicy,
        session: Session | None,
        login: Login,
        on_session: Callable[[Session], None],
    ) -> None:
        self.service = service.rstrip("/")
        self._session = session
        self._login = login
        self._on_session = on_session
        self._http = guarded_client(
            policy, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
        )

    def __enter__(self) -> BlueskyClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    @property
    def session(self) -> Session:
        """The current session, logging in first when there is none."""
        if self._session is None:
            self._log_in()
        assert self._session is not None
        return self._session

    def query(
        self, nsid: str, params: dict[str, Any], refused: type[ConnectorError] = ConnectorError
    ) -> Any:
        """GET ``/xrpc/<nsid>``; an XRPC error other than an auth one is ``refused``."""
        return _answer(self._authorized("GET", nsid, params=params), nsid, refused)

    def procedure(self, nsid: str, body: dict[str, Any], refused: type[ConnectorError]) -> Any:
        """POST ``/xrpc/<nsid>`` with a JSON body; an XRPC error is ``refused``."""
        return _answer(self._authorized("POST", nsid, json=body), nsid, refused)

    def get_record(self, repo: str, collection: str, rkey: str) -> Any | None:
        """``com.atproto.repo.getRecord``, or ``None`` when there is no such record."""
        nsid = "com.atproto.repo.getRecord"
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        response = self._authorized("GET", nsid, params=params)
        if response.status_code == 400 and _error_name(response) == "RecordNotFound":
            return None
        return _answer(response, nsid, ConnectorError)

    # --- sessions ----------------------------------------------------------------------

    def _authorized(self, method: str, nsid: str, **options: Any) -> httpx.Response:
        """The call with the access token; once more with a renewed session if refused."""
        session = self.session
        try:
            return self._with_token(method, nsid, session.access_jwt, **options)
        except _TokenRefusedError:
            self._renew(session)
        try:
            return self._with_token(method, nsid, self.session.access_jwt, **options)
        except _TokenRefusedError:
            raise AuthExpiredError(
                f"Bluesky {nsid}: a fresh session was refused too; connect the channel again"
            ) from None

    def _with_token(self, method: str, nsid: str, token: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = self._send(method, nsid, headers=headers, **options)
        except AuthExpiredError:
            raise _TokenRefusedError from None
        if response.status_code == 400 and _error_name(response) in TOKEN_REFUSALS:
            raise _TokenRefusedError
        return response

    def _renew(self, session: Session) -> None:
        """Refresh the session; log in again when the refresh token is refused too."""
        try:
            response = self._with_token("POST", REFRESH_SESSION, session.refresh_jwt)
        except _TokenRefusedError:
            self._log_in()
            return
        self._adopt(_session_answer(response, "Bluesky session refresh"))

    def _log_in(self) -> None:
        if not self._login.identifier or not self._login.app_password:
            raise AuthExpiredError(
                "Bluesky: no handle and app password to log in with; connect the channel again"
            )
        body = {"identifier": self._login.identifier, "password": self._login.app_password}
        response = self._send("POST", CREATE_SESSION, json=body)
        self._adopt(_session_answer(response, "Bluesky login"))

    def _adopt(self, session: Session) -> None:
        self._session = session
        self._on_session(session)

    def _send(self, method: str, nsid: str, **options: Any) -> httpx.Response:
        what = f"Bluesky {nsid}"
        try:
            return request(self._http, method, f"{self.service}/xrpc/{nsid}", what, **options)
        except FetchFailedError as error:
            raise NetworkUnavailableError(f"{what}: {error}") from None
        except FetchRefusedError as error:
            raise ConnectorError(f"{what}: {error}") from None


def _session_answer(response: httpx.Response, what: str) -> Session:
    """The session of a successful login or refresh; any refusal is ``AuthExpiredError``
    (401s already are, from ``channels.http``)."""
    if response.status_code != 200:
        raise AuthExpiredError(f"{what} refused: {_reason(response)}; connect the channel again")
    return session_of(json_of(response, what))


def _answer(response: httpx.Response, nsid: str, refused: type[ConnectorError]) -> Any:
    if response.is_success:
        return json_of(response, f"Bluesky {nsid}")
    raise refused(f"Bluesky {nsid} refused: {_reason(response)}")


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_name(response: httpx.Response) -> str:
    return xrpc_error(_body(response))[0]


def _reason(response: httpx.Response) -> str:
    error, message = xrpc_error(_body(response))
    reason = ": ".join(part for part in (error, message) if part)
    return reason[:300] or f"HTTP {response.status_code}"
