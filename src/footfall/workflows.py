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


def slack_escape(text: str) -> str:
    """Slack reads `&`, `<` and `>` as markup (`<!channel>`, `<https://x|link>`): a visitor's words
    are escaped so they stay words (Slack's "Formatting text for app surfaces")."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_template(template: str, inputs: dict[str, Any], escape: bool = True) -> str:
    """The owner's template (its markup kept) with each input's value, escaped for Slack."""

    def value(match: re.Match[str]) -> str:
        found = inputs.get(match.group(1))
        if found is None:
            return ""
        text = found if isinstance(found, str) else json.dumps(found)
        return slack_escape(text) if escape else text

    return PLACEHOLDER.sub(value, template)


MASK = "\u2022\u2022\u2022\u2022"  # a secret's place in an answer: header values, a Slack URL's path


def masked_url(url: str, kind: str) -> str:
    """A Slack incoming webhook's URL is its secret: only the host shows."""
    if kind != "slack":
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/{MASK}"


def unmask_headers(given: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """Headers from a PATCH: a masked value keeps the stored one of the same name."""
    return {k: stored[k] if v == MASK else v for k, v in given.items() if v != MASK or k in stored}


def workflow_json(row: Row) -> dict[str, Any]:
    config = loads(row["config"])
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "inputs": loads(row["inputs"]),
        "url": masked_url(config["url"], row["kind"]),
        "hold_unverified": bool(config.get("hold_unverified")),
        "site_id": row.get("site_id"),
    }
    if row["kind"] == "webhook":
        body |= {"headers": {k: MASK for k in config.get("headers", {})}, "has_secret": True}
    else:
        body["template"] = config["template"]
    return body | {"created_at": iso_ms(row["created_at"]), "updated_at": iso_ms(row["updated_at"])}


# A site key's workflows: its own, and those fed by at least one sync, every one from its site.
_SITE_REACH = (
    "(w.site_id = ? OR (w.site_id IS NULL AND EXISTS (SELECT 1 FROM syncs y WHERE y.workflow_id = w.id) "
    "AND NOT EXISTS (SELECT 1 FROM syncs y JOIN sources o ON o.id = y.source_id "
    "WHERE y.workflow_id = w.id AND o.site_id <> ?)))"
)


def reachable_workflows(tx: Tx, account_id: str, site_id: str | None) -> list[Row]:
    """The workflows a key of `account_id` (limited to `site_id` when set) may see and change."""
    sql = "SELECT w.* FROM workflows w WHERE w.account_id = ?"
    params: list[Any] = [account_id]
    if site_id is not None:
        sql += " AND " + _SITE_REACH
        params += [site_id, site_id]
    return tx.all(sql + " ORDER BY w.created_at, w.id", params)


def reachable_workflow(tx: Tx, account_id: str, site_id: str | None, workflow_id: str) -> Row | None:
    sql = "SELECT w.* FROM workflows w WHERE w.id = ? AND w.account_id = ?"
    params: list[Any] = [workflow_id, account_id]
    if site_id is not None:
        sql += " AND " + _SITE_REACH
        params += [site_id, site_id]
    return tx.one(sql, params)


def enqueue(tx: Tx, sync: Row, row_nums: list[int], now: int, status: str = "pending") -> None:
    """Deliveries of these rows to the sync's workflow (an existing one for a row is kept). Their
    retry window (`expires_at`) starts at the first attempt. A workflow that holds unverified people
    (`hold_unverified`) gets the rows of people only keyless claims named as `held`: sent once an
    authority confirms them (sources.release_held), never before."""
    held: set[int] = set()
    workflow = tx.one("SELECT config FROM workflows WHERE id = ?", (sync["workflow_id"],))
    if status == "pending" and row_nums and workflow and loads(workflow["config"]).get("hold_unverified"):
        rows = tx.all(f"SELECT num, data FROM source_rows WHERE num IN ({','.join('?' * len(row_nums))})", row_nums)
        held = {r["num"] for r in rows if loads(r["data"]).get("verified") is False}
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
                "held" if num in held else status,
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
