"""The delivery sender: takes due deliveries from the outbox and sends them (docs/workflows.md).

Each round claims due deliveries by writing a lease (`leased_until`), so two server instances
never send one at the same time, sends them with httpx, and records each answer. A 2xx is
delivered; anything else (a status, a timeout, a refused connection) is retried with exponential
backoff and jitter until the delivery's `expires_at`, then it is `failed` (and can be replayed).
A crash between sending and recording leaves the lease to expire and the delivery is sent again
with the same `Idempotency-Key`: receivers that keep the keys they saw see each row once.
Deliveries of a paused source wait until it is resumed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from typing import Any

import httpx

from footfall.clock import Clock
from footfall.outbound import REFUSED, Outbound, Refused, async_client
from footfall.sources import row_json
from footfall.store.base import Row, Store, Tx, loads
from footfall.workflows import SIGNATURE_HEADER, mapped, render_template, sign

log = logging.getLogger("footfall.delivery")

BATCH = 50
MAX_BACKOFF_MS = 3_600_000


@dataclass
class Attempt:
    delivery: Row
    url: str
    body: bytes
    headers: dict[str, str]
    expires_at: int


def backoff_ms(attempts: int, base_ms: int, rng: random.Random) -> int:
    """Exponential (base * 2^(attempts-1), at most an hour) with jitter (x0.5 to x1.5)."""
    return int(min(MAX_BACKOFF_MS, base_ms * 2 ** max(0, attempts - 1)) * rng.uniform(0.5, 1.5))


class Sender:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        timeout_s: float,
        base_backoff_ms: int,
        max_age_ms: int,
        outbound: Outbound | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.timeout_s = timeout_s
        self.base_backoff_ms = base_backoff_ms
        self.max_age_ms = max_age_ms
        self.lease_ms = int(timeout_s * 2000) + 5_000  # longer than any send: a lease outlives only a crash
        self.rng = rng or random.Random()
        self.outbound = outbound or Outbound()
        self._client: httpx.AsyncClient | None = None

    async def run_once(self) -> int:
        """One round: answers how many deliveries were attempted."""
        now = self.clock.now_ms()
        attempts = await asyncio.to_thread(self.store.write, lambda tx: self._claim(tx, now))
        if not attempts:
            return 0
        if self._client is None:
            self._client = async_client(self.outbound, self.timeout_s)
        results = await asyncio.gather(*(self._send(a) for a in attempts))
        finished = self.clock.now_ms()
        await asyncio.to_thread(self.store.write, lambda tx: self._record(tx, attempts, results, finished))
        return len(attempts)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _send(self, a: Attempt) -> tuple[int | None, str | None]:
        """(status, footfall's words on a failure). The receiver's body is never kept: it could be
        an internal service's answer (docs/reliability.md, "Outbound requests")."""
        assert self._client is not None
        try:
            self.outbound.check_url(a.url, resolve=False)  # the connection itself is checked too
            async with self._client.stream("POST", a.url, content=a.body, headers=a.headers) as response:
                status = response.status_code  # the body is not read
        except Refused as exc:
            return None, str(exc)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    def _claim(self, tx: Tx, now: int) -> list[Attempt]:
        due = tx.all(
            "SELECT d.* FROM deliveries d JOIN sources s ON s.id = d.source_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.leased_until <= ? AND s.status = 'active' "
            "ORDER BY d.next_attempt_at LIMIT ?",
            (now, now, BATCH),
        )
        if not due:
            return []
        marks = ",".join("?" * len(due))
        claimed = {
            r["id"]
            for r in tx.all(
                f"UPDATE deliveries SET leased_until = ? WHERE id IN ({marks}) AND leased_until <= ? RETURNING id",
                (now + self.lease_ms, *(d["id"] for d in due), now),
            )
        }
        starting = [d["id"] for d in due if d["id"] in claimed and not d["expires_at"]]
        if starting:  # the first attempt opens the retry window
            tx.execute(
                f"UPDATE deliveries SET expires_at = ? WHERE id IN ({','.join('?' * len(starting))})",
                (now + self.max_age_ms, *starting),
            )
        return [
            a
            for d in due
            if d["id"] in claimed and (a := self._attempt(tx, d, now, d["expires_at"] or now + self.max_age_ms))
        ]

    def _attempt(self, tx: Tx, d: Row, now: int, expires_at: int) -> Attempt | None:
        workflow = tx.one("SELECT * FROM workflows WHERE id = ?", (d["workflow_id"],))
        sync = tx.one("SELECT * FROM syncs WHERE source_id = ? AND workflow_id = ?", (d["source_id"], d["workflow_id"]))
        row = tx.one("SELECT * FROM source_rows WHERE num = ?", (d["row_num"],))
        if workflow is None or sync is None or row is None:  # gone since: nothing to send
            tx.execute("DELETE FROM deliveries WHERE id = ?", (d["id"],))
            return None
        config = loads(workflow["config"])
        data = row_json(row)
        inputs = mapped(loads(sync["field_mapping"]), data)
        if workflow["kind"] == "slack":
            payload: dict[str, Any] = {"text": render_template(config["template"], inputs)}  # escaped
        else:
            payload = {
                "id": d["id"],
                "idempotency_key": d["idempotency_key"],
                "workflow_id": workflow["id"],
                "source_instance_id": d["source_id"],
                "row_id": str(row["num"]),
                "inputs": inputs,
            }
            if "verified" in data:  # a person's row: how they were identified, whatever the mapping
                payload["identification"] = {k: data.get(k) for k in ("identifiedBy", "identifiedAt", "verified")}
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            **config.get("headers", {}),
            "content-type": "application/json",
            "idempotency-key": d["idempotency_key"],
            "user-agent": "footfall-workflows",
            SIGNATURE_HEADER: sign(config["secret"], now // 1000, body),
        }
        return Attempt(d, config["url"], body, headers, expires_at)

    def _record(self, tx: Tx, attempts: list[Attempt], results: list[tuple[int | None, str | None]], now: int) -> None:
        for a, (status, error) in zip(attempts, results, strict=True):
            d = a.delivery
            tries = d["attempts"] + 1
            if status is not None and 200 <= status < 300:
                tx.execute(
                    "UPDATE deliveries SET status = 'delivered', attempts = ?, last_status = ?, last_error = NULL, "
                    "delivered_at = ?, leased_until = 0 WHERE id = ? AND status = 'pending'",
                    (tries, status, now, d["id"]),
                )
                continue
            retry_at = now + backoff_ms(tries, self.base_backoff_ms, self.rng)
            refused = error is not None and error.startswith(REFUSED)  # retrying cannot help
            state = "pending" if retry_at <= a.expires_at and not refused else "failed"
            tx.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, next_attempt_at = ?, "
                "leased_until = 0 WHERE id = ? AND status = 'pending'",
                (state, tries, status, error, retry_at, d["id"]),
            )


async def sender_loop(sender: Sender, seconds: float) -> None:
    """The background task: a round whenever the last one found work, else every `seconds`."""
    while True:
        try:
            busy = await sender.run_once()
        except Exception:  # a failing round must not stop the sender; logged and retried
            log.exception("delivery round failed")
            busy = 0
        if not busy:
            await asyncio.sleep(seconds)
