"""Workflows: where a source's rows go, and the outbox that takes them there (docs/workflows.md).

A workflow declares its inputs (snake_case references: `first_name` is `{{input.first_name}}`)
and is a `webhook` (a URL, an optional secret, extra headers) or `slack` (an incoming-webhook URL
and a message template). A sync maps inputs to a source's fields. Each new row of a synced source
gets one delivery per workflow, written in the transaction that made the row (or the sync, for
the rows it pushes) before any attempt; the sender (delivery.py) takes it from there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from footfall import ids
from footfall.clock import iso_ms
from footfall.store.base import Row, Tx, loads

KINDS = ("webhook", "slack")
RUNS = ("all", "first_10", "none")
REFERENCE = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{\{\s*(?:input\.)?([a-z][a-z0-9_]*)\s*\}\}")
SIGNATURE_HEADER = "x-footfall-signature"
FORBIDDEN_HEADERS = {"content-type", "content-length", "host", "idempotency-key", SIGNATURE_HEADER}


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def input_of(key: str) -> str | None:
    """A field_mapping key as the input it names: `input.first_name` or `{{input.first_name}}`."""
    key = key.strip()
    if key.startswith("{{") and key.endswith("}}"):
        key = key[2:-2].strip()
    if not key.startswith("input."):
        return None
    name = key.removeprefix("input.")
    return name if REFERENCE.match(name) else None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs its webhooks."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def mapped(mapping: dict[str, str], row: dict[str, Any]) -> dict[str, Any]:
    """The workflow's inputs filled from the row (a field the row lacks is null)."""
    return {name: row.get(field) for name, field in mapping.items()}


def render_template(template: str, inputs: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = inputs.get(match.group(1))
        if found is None:
            return ""
        return found if isinstance(found, str) else json.dumps(found)

    return PLACEHOLDER.sub(value, template)


def workflow_json(row: Row) -> dict[str, Any]:
    config = loads(row["config"])
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "inputs": loads(row["inputs"]),
        "url": config["url"],
    }
    if row["kind"] == "webhook":
        body |= {"headers": config.get("headers", {}), "has_secret": True}
    else:
        body["template"] = config["template"]
    return body | {"created_at": iso_ms(row["created_at"]), "updated_at": iso_ms(row["updated_at"])}


def enqueue(tx: Tx, sync: Row, row_nums: list[int], now: int, status: str = "pending") -> None:
    """Deliveries of these rows to the sync's workflow (an existing one for a row is kept). Their
    retry window (`expires_at`) starts at the first attempt."""
    tx.executemany(
        "INSERT INTO deliveries (id, workflow_id, source_id, row_num, idempotency_key, status, next_attempt_at, "
        "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (idempotency_key) DO NOTHING",
        [
            (
                ids.person_id(),
                sync["workflow_id"],
                sync["source_id"],
                num,
                f"{num}:{sync['workflow_id']}",
                status,
                now,
                now,
            )
            for num in row_nums
        ],
    )


def on_new_rows(tx: Tx, row_nums: list[int], now: int) -> None:
    """The writer made these rows: each goes to every workflow its source is synced to."""
    if not row_nums:
        return
    marks = ",".join("?" * len(row_nums))
    rows = tx.all(f"SELECT num, source_id FROM source_rows WHERE num IN ({marks})", row_nums)
    by_source: dict[str, list[int]] = {}
    for r in rows:
        by_source.setdefault(r["source_id"], []).append(r["num"])
    for source_id, nums in by_source.items():
        for sync in tx.all("SELECT * FROM syncs WHERE source_id = ?", (source_id,)):
            enqueue(tx, sync, nums, now)


def push_existing(tx: Tx, sync: Row, now: int) -> dict[str, int]:
    """A new sync's backfill: `run` all -> every existing row is delivered; first_10 -> the first
    ten (oldest) are, the others recorded as pushed without a run (`skipped`); none -> all skipped."""
    nums = [
        r["num"] for r in tx.all("SELECT num FROM source_rows WHERE source_id = ? ORDER BY num", (sync["source_id"],))
    ]
    run = {"all": len(nums), "first_10": 10, "none": 0}[sync["run"]]
    enqueue(tx, sync, nums[:run], now)
    enqueue(tx, sync, nums[run:], now, status="skipped")
    return {"pushed": len(nums), "queued": min(run, len(nums))}
