"""Concurrent HTTP clients for the load benchmark, run in a process of their own.

``python benchmarks/load_clients.py SPEC.json RESULT.json`` starts the spec's number of
clients (asyncio, one keep-alive ``httpx.AsyncClient`` each, spread evenly over the
server processes' ports) at the spec's wall-clock moment; each sends GET requests one
after another until the end of the warm-up and the measured window. Only requests
started inside the window count: the latencies of 200 responses, and every other status
or transport error by kind. The process's own CPU time over the window tells whether the
clients, not the server, were the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ERROR_SAMPLES = 5


@dataclass(slots=True)
class Tally:
    """What the clients of one process saw inside the window."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(f"{kind}: {detail[:300]}")


def _path_for(spec: dict[str, Any], rng: random.Random) -> str:
    template: str = spec["path"]
    if "{conversation_id}" in template:
        return template.format(conversation_id=rng.choice(spec["conversation_ids"]))
    return template


def _clients(spec: dict[str, Any]) -> list[httpx.AsyncClient]:
    """One client per simulated user, each with one connection, built before the start.

    They share one TLS context: building one each (httpx's default) loads the CA bundle
    every time and would keep the event loop busy for seconds.
    """
    context = ssl.create_default_context()
    servers = spec["base_urls"]
    return [
        httpx.AsyncClient(
            base_url=servers[(spec["first_client"] + number) % len(servers)],
            headers=spec["headers"],
            cookies=spec["cookies"],
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=spec["timeout"],
            verify=context,
        )
        for number in range(spec["clients"])
    ]


async def _requests(
    client: httpx.AsyncClient,
    spec: dict[str, Any],
    rng: random.Random,
    window: tuple[float, float],
    tally: Tally,
) -> None:
    """A request after another on the client's keep-alive connection, until the end."""
    start, end = window
    while (began := time.perf_counter()) < end:
        path = _path_for(spec, rng)
        try:
            response = await client.get(path)
        except httpx.HTTPError as error:
            if began >= start:
                tally.error(type(error).__name__, f"{path}: {error!r}")
            continue
        elapsed = time.perf_counter() - began
        if began < start:
            continue
        if response.status_code == 200:
            tally.latencies.append(elapsed)
        else:
            tally.error(f"HTTP {response.status_code}", f"{path}: {response.text}")


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the spec's clients; the window opens ``warmup`` seconds after ``start_at``."""
    clients = _clients(spec)
    await asyncio.sleep(max(0.0, spec["start_at"] - time.time()))
    start = time.perf_counter() + spec["warmup"]
    end = start + spec["duration"]
    tally = Tally()
    tasks = [
        asyncio.create_task(
            _requests(client, spec, random.Random(spec["seed"] + n), (start, end), tally)
        )
        for n, client in enumerate(clients)
    ]
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    await asyncio.sleep(max(0.0, end - time.perf_counter()))
    cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
    await asyncio.gather(*tasks)  # each ends after its request in flight
    await asyncio.gather(*(client.aclose() for client in clients))
    return {
        "latencies": tally.latencies,
        "errors": dict(tally.errors),
        "samples": tally.samples,
        "cpu": cpu / wall if wall else 0.0,
    }


def main() -> None:
    spec_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    result = asyncio.run(run(spec))
    result_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
