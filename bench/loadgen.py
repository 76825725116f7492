"""A small, fast HTTP/1.1 load generator: keep-alive connections, pre-encoded requests.

Used by the benchmarks so that the client costs as little CPU as possible and the
same client drives both the endpoint under test and its baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


def encode(method: str, path: str, host: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        "Content-Type: application/json",
    ] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _worker(
    host: str,
    port: int,
    requests: Sequence[bytes],
    start: int,
    step: int,
    deadline: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    i, done = start, 0
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status = await _read_response(reader)
            latencies.append((time.perf_counter() - t0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            i += step
            done += 1
    finally:
        writer.close()
    return done


async def _run(host: str, port: int, requests: Sequence[bytes], connections: int, seconds: float) -> Result:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    t0 = time.perf_counter()
    deadline = t0 + seconds
    counts = await asyncio.gather(
        *(_worker(host, port, requests, i, connections, deadline, latencies, statuses) for i in range(connections))
    )
    return Result(sum(counts), time.perf_counter() - t0, latencies, statuses)


def run(host: str, port: int, requests: Sequence[bytes], connections: int, seconds: float) -> Result:
    try:
        import uvloop

        return uvloop.run(_run(host, port, requests, connections, seconds))
    except ImportError:
        return asyncio.run(_run(host, port, requests, connections, seconds))
