"""The application under test: uvicorn processes on loopback, and a signed-in session.

``start_server`` runs one single-process uvicorn per worker, each on its own port, with
the database and a session key shared through ``DIALOGA_*`` variables; ``session_cookie``
signs in through the real form. Used by ``benchmarks/inbox_load.py``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HEALTH = "/healthz"
SESSION_COOKIE = "dialoga_session"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """The application: one single-process uvicorn per worker, each on its own port.

    Not ``uvicorn --workers N``: its supervisor binds the socket without the TCP protocol
    number, so asyncio leaves Nagle's algorithm on and every keep-alive response waits
    about 40 ms for a delayed ACK (uvicorn issue #3149). Clients spread their
    connections over the ports evenly, as a proxy in front of N processes would.
    """

    processes: list[subprocess.Popen[bytes]]
    base_urls: list[str]
    log: Path

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def start_server(url: str, workers: int, data_dir: Path) -> Server:
    """Start ``workers`` uvicorn processes on free loopback ports; wait for their /healthz."""
    log = data_dir / "server.log"
    env = {
        **os.environ,
        "DIALOGA_DATABASE_URL": url,
        "DIALOGA_DATA_DIR": str(data_dir),
        # One key for every process (each would otherwise race to create the key file).
        "DIALOGA_SECRET_KEY": "inbox-load-benchmark-" + "k" * 32,
    }
    ports = [_free_port() for _ in range(workers)]
    server = Server([], [f"http://127.0.0.1:{port}" for port in ports], log)
    with log.open("wb") as handle:
        for port in ports:
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "dialoga.web.app:create_app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ]
            server.processes.append(
                subprocess.Popen(
                    command,
                    env=env,
                    cwd=data_dir,
                    stdout=handle,
                    stderr=handle,
                    start_new_session=True,
                )
            )
    try:
        for base_url in server.base_urls:
            _wait_for_health(server, base_url)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_for_health(server: Server, base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in server.processes):
            raise SystemExit(f"the server exited: {server.log.read_text()[-2000:]}")
        try:
            if httpx.get(base_url + HEALTH, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(
        f"{base_url} did not answer {HEALTH} in 60 s: {server.log.read_text()[-2000:]}"
    )


def session_cookie(base_url: str, email: str, password: str) -> str:
    """Sign in through the form (CSRF token and all); the signed session cookie."""
    with httpx.Client(base_url=base_url, follow_redirects=False) as client:
        form = client.get("/signin")
        found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if form.status_code != 200 or found is None:
            raise SystemExit(f"no sign-in form at /signin (HTTP {form.status_code})")
        answer = client.post(
            "/signin",
            data={
                "email": email,
                "password": password,
                "csrf_token": found.group(1),
            },
        )
        cookie = client.cookies.get(SESSION_COOKIE)
        if answer.status_code != 303 or not cookie:
            raise SystemExit(f"signing in failed: HTTP {answer.status_code}")
        return cookie
