"""Accounts, sites and API keys: the records the CLI and the APIs administer.

Every function takes a `Tx` and is run through `store.read` / `store.write`.
API keys are shown once and stored only as a SHA-256 hash plus a short prefix.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from typing import Any

from footfall import ids
from footfall.model import Site
from footfall.store.base import Tx, dumps, loads

# DataFast's permission names, plus footfall's own admin scopes.
SCOPES = (
    "*",
    "analytics:read",
    "goals:write",
    "payments:write",
    "identify:write",
    "events:import",  # events with their own time, address and browser (docs/import.md)
    "websites:read",
    "websites:write",
    "api-keys:read",
    "api-keys:write",
    "settings:read",
    "settings:write",
    # DataFast's other token permissions: accepted so its clients can create tokens; footfall has
    # no team or alerts routes, and funnels answer under analytics:read
    "team:read",
    "team:write",
    "alerts:read",
    "alerts:write",
    "funnels:read",
    "funnels:write",
    "fingerprint:read",
    "fingerprint:write",
    "sources:read",
    "sources:write",
    "workflows:read",
    "workflows:write",
)

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


class InvalidInput(ValueError):
    """A value given by an operator or API caller that cannot be accepted."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    account_id: str
    site_id: str | None
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: int
    revoked_at: int | None

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


def normalize_domain(raw: str) -> str:
    """`https://www.Example.com/path` -> `example.com`; raises InvalidInput when not a hostname."""
    value = raw.strip().lower()
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value).split("/", 1)[0].split(":", 1)[0]
    value = value.removeprefix("www.").rstrip(".")
    if not _HOSTNAME.match(value):
        raise InvalidInput(f"{raw!r} is not a domain name (expected something like example.com)")
    return value


def ensure_account(tx: Tx, name: str, now: int) -> tuple[dict[str, Any], bool]:
    """The instance's first account, created when missing. Returns (account, created)."""
    row = tx.one("SELECT * FROM accounts ORDER BY created_at LIMIT 1")
    if row:
        return row, False
    account = {"id": secrets.token_hex(12), "name": name, "created_at": now}
    tx.execute("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", (account["id"], account["name"], now))
    return account, True


def first_account(tx: Tx) -> dict[str, Any] | None:
    return tx.one("SELECT * FROM accounts ORDER BY created_at LIMIT 1")


def site_of_row(row: dict[str, Any]) -> Site:
    return Site(
        id=row["id"],
        num=row["num"],
        account_id=row["account_id"],
        domain=row["domain"],
        created_at=row["created_at"],
        allowed_hostnames=tuple(loads(row["allowed_hostnames"]) or ()),
        timezone=row["timezone"],
        settings=loads(row["settings"]),
    )


def create_site(
    tx: Tx,
    account_id: str,
    domain: str,
    now: int,
    *,
    timezone: str = "UTC",
    allowed_hostnames: tuple[str, ...] = (),
    settings: dict[str, Any] | None = None,
) -> Site:
    domain = normalize_domain(domain)
    hosts = tuple(normalize_domain(h) for h in allowed_hostnames)
    if tx.one("SELECT id FROM sites WHERE account_id = ? AND domain = ?", (account_id, domain)):
        raise InvalidInput(f"{domain} is already a site of this account")
    site_id = ids.site_id()
    tx.execute(
        "INSERT INTO sites (id, account_id, domain, allowed_hostnames, timezone, settings, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (site_id, account_id, domain, dumps(list(hosts)), timezone, dumps(settings or {}), now),
    )
    site = get_site(tx, site_id)
    assert site is not None
    return site


def get_site(tx: Tx, site_id: str) -> Site | None:
    row = tx.one("SELECT * FROM sites WHERE id = ?", (site_id,))
    return site_of_row(row) if row else None


def list_sites(tx: Tx, account_id: str | None = None) -> list[Site]:
    if account_id is None:
        return [site_of_row(r) for r in tx.all("SELECT * FROM sites ORDER BY created_at, id")]
    return [
        site_of_row(r)
        for r in tx.all("SELECT * FROM sites WHERE account_id = ? ORDER BY created_at, id", (account_id,))
    ]


def update_site_settings(tx: Tx, site_id: str, changes: dict[str, Any]) -> Site:
    site = get_site(tx, site_id)
    if site is None:
        raise InvalidInput(f"no site {site_id}")
    merged = {**site.settings, **changes}
    tx.execute("UPDATE sites SET settings = ? WHERE id = ?", (dumps(merged), site_id))
    site.settings = merged
    return site


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


def privacy_changes(given: dict[str, str | None]) -> dict[str, Any]:
    """Checked site settings for exclusions, IP truncation and retention, from text as a form or
    the CLI gives it (comma-separated lists; None: unchanged). docs/reliability.md."""
    out: dict[str, Any] = {}
    if given.get("exclude_ips") is not None:
        ips = _list(given["exclude_ips"] or "")
        for ip in ips:
            try:
                ipaddress.ip_network(ip, strict=False)
            except ValueError:
                raise InvalidInput(f"not an IP address or network: {ip!r}") from None
        out["exclude_ips"] = ips
    if given.get("exclude_countries") is not None:
        codes = [c.upper() for c in _list(given["exclude_countries"] or "")]
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise InvalidInput(f"not two-letter country codes: {', '.join(bad)}")
        out["exclude_countries"] = codes
    if given.get("exclude_paths") is not None:
        paths = _list(given["exclude_paths"] or "")
        if any(not p.startswith("/") for p in paths):
            raise InvalidInput("excluded paths start with / (globs such as /admin/*)")
        out["exclude_paths"] = paths
    if given.get("exclude_hostnames") is not None:
        out["exclude_hostnames"] = [h.lower() for h in _list(given["exclude_hostnames"] or "")]
    if given.get("spam_referrers") is not None:
        domains = [d.lower().removeprefix("www.") for d in _list(given["spam_referrers"] or "")]
        bad = [d for d in domains if "." not in d or "/" in d or " " in d]
        if bad:
            raise InvalidInput(f"not domain names: {', '.join(bad)} (spam referrers are domains, such as spam.example)")
        out["spam_referrers"] = domains
    if given.get("retention_days") is not None:
        raw = (given["retention_days"] or "0").strip() or "0"
        if not raw.isdigit():
            raise InvalidInput(f"retention is a number of days (0: keep everything), got {raw!r}")
        out["retention_days"] = int(raw)
    return out


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        account_id=row["account_id"],
        site_id=row["site_id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(row["scopes"].split()),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def create_key(
    tx: Tx, account_id: str, scopes: list[str], now: int, *, site_id: str | None = None, name: str = ""
) -> tuple[str, ApiKey]:
    """Returns (the key in clear, shown once; its record)."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InvalidInput(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(SCOPES)}")
    if site_id is not None:
        site = get_site(tx, site_id)
        if site is None or site.account_id != account_id:
            raise InvalidInput(f"no site {site_id} in this account")
    clear = ids.api_key()
    key_id = secrets.token_hex(8)
    tx.execute(
        "INSERT INTO api_keys (id, account_id, site_id, name, prefix, key_hash, scopes, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key_id, account_id, site_id, name, clear[:10], ids.hash_key(clear), " ".join(scopes), now),
    )
    row = tx.one("SELECT * FROM api_keys WHERE id = ?", (key_id,))
    assert row is not None
    return clear, _key(row)


def list_keys(tx: Tx, account_id: str) -> list[ApiKey]:
    return [
        _key(r) for r in tx.all("SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at, id", (account_id,))
    ]


def revoke_key(tx: Tx, account_id: str, key_id: str, now: int) -> ApiKey:
    row = tx.one("SELECT * FROM api_keys WHERE account_id = ? AND (id = ? OR prefix = ?)", (account_id, key_id, key_id))
    if row is None:
        raise InvalidInput(f"no API key {key_id!r} (give the id or the prefix that `keys list` shows)")
    tx.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", (now, row["id"]))
    return _key({**row, "revoked_at": row["revoked_at"] or now})


def find_key(tx: Tx, clear: str) -> ApiKey | None:
    """The live key with this clear text, or None (unknown or revoked)."""
    row = tx.one("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (ids.hash_key(clear),))
    return _key(row) if row else None
