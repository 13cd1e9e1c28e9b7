"""The join storm's load generator: a separate process on loopback.

Each of COUNT attendees opens the direct-join page (GET), reads the form token
from it and sends the form with their own email (POST), as a browser does;
CONCURRENCY attendees are at it at any moment, each on a kept-alive connection.
Prints one JSON line: when it started and ended, how every answer went, and the
latency percentiles of the GETs, the POSTs and whole joins.

    python -m bench.storm_client --port 5850 --path /e/KEY/join --count 10000 \
        --concurrency 32 --body-file body.txt --tag s1 --location https://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.stats import percentile

TOKEN = re.compile(
    rb'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"'
)


@dataclass(slots=True)
class Tally:
    """Everything the attendees saw."""

    get_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    join_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    joined: int = 0


class Connection:
    """One kept-alive HTTP/1.1 connection to the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(
        self, method: str, path: str, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """One request and its whole answer; reconnects once if the server had
        closed the kept-alive connection."""
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(
                    self.host, self.port
                )
            try:
                return await self._exchange(method, path, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.reader is None or self.writer is None:
            raise ConnectionError("not connected")
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if method == "POST":
            head += (
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n"
            )
        self.writer.write(head.encode() + b"\r\n" + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        content = await self.reader.readexactly(length) if length else b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, content

    def close(self) -> None:
        """Drop the connection; the next request opens a new one."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def attendee_loop(
    arguments: argparse.Namespace,
    numbers: asyncio.Queue[int],
    body: str,
    tally: Tally,
) -> None:
    """Join as one attendee after another until none is left."""
    connection = Connection(arguments.host, arguments.port)
    while True:
        try:
            number = numbers.get_nowait()
        except asyncio.QueueEmpty:
            break
        try:
            await join_once(connection, arguments, number, body, tally)
        except Exception as error:
            tally.failures.append(f"attendee {number}: {type(error).__name__}: {error}")
            connection.close()
    connection.close()


async def join_once(
    connection: Connection,
    arguments: argparse.Namespace,
    number: int,
    body: str,
    tally: Tally,
) -> None:
    """GET the join page, then POST its form with this attendee's answers."""
    started = time.perf_counter()
    status, _, page = await connection.send("GET", arguments.path)
    shown = time.perf_counter()
    tally.get_ms.append((shown - started) * 1000)
    tally.statuses[f"GET {status}"] += 1
    match = TOKEN.search(page)
    if status != 200 or match is None:
        tally.failures.append(f"attendee {number}: GET {status} without a form")
        return
    token = (match.group(1) or match.group(2)).decode()
    filled = body.replace("%TOKEN%", token).replace("%N%", f"{arguments.tag}-{number}")
    status, headers, _ = await connection.send("POST", arguments.path, filled.encode())
    ended = time.perf_counter()
    tally.post_ms.append((ended - shown) * 1000)
    tally.join_ms.append((ended - started) * 1000)
    tally.statuses[f"POST {status}"] += 1
    if status != 303 or headers.get("location") != arguments.location:
        tally.failures.append(
            f"attendee {number}: POST {status} to {headers.get('location')}"
        )
        return
    tally.joined += 1


async def storm(arguments: argparse.Namespace) -> dict[str, object]:
    """Run every attendee; return what RESULTS.md needs."""
    with open(arguments.body_file) as file:
        body = file.read().strip()
    numbers: asyncio.Queue[int] = asyncio.Queue()
    for number in range(1, arguments.count + 1):
        numbers.put_nowait(number)
    tally = Tally()
    started_at = time.time()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            attendee_loop(arguments, numbers, body, tally)
            for _ in range(arguments.concurrency)
        )
    )
    seconds = time.perf_counter() - started

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "p50_ms": percentile(values, 0.50),
            "p99_ms": percentile(values, 0.99),
            "max_ms": max(values, default=0.0),
        }

    return {
        "started_at": started_at,
        "seconds": seconds,
        "joined": tally.joined,
        "statuses": dict(tally.statuses),
        "failures": len(tally.failures),
        "first_failures": tally.failures[:10],
        "get": summary(tally.get_ms),
        "post": summary(tally.post_ms),
        "join": summary(tally.join_ms),
    }


def main() -> None:
    """Read the arguments, run the storm, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--location", required=True)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(storm(arguments))), flush=True)


if __name__ == "__main__":
    main()
