"""The optional enrichment provider: an HTTP service the owner runs or subscribes to, which footfall
asks about identified people (docs/people.md has the contract). Off unless FOOTFALL_ENRICHMENT_URL
is set.

It never touches ingestion: a background job picks people the provider has not been asked about
(`people.enriched_at` null), asks outside any transaction, and writes what came back into fields
that are still empty, with the source `provider`; the owner's and the person's own data always
win. Answers are cached by what was asked for FOOTFALL_ENRICHMENT_TTL_DAYS (a 404 too: the
provider knows nothing); timeouts, connection errors and other statuses are not cached, and the
person is asked about again on a later run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from footfall.clock import Clock
from footfall.enrich.email import company_domain, email_fields
from footfall.identity.claims import VERIFIED_SQL
from footfall.outbound import Outbound, sync_client
from footfall.store.base import Row, Store, Tx, dumps, loads

log = logging.getLogger("footfall.enrichment")
PERSON_FIELDS = ("first_name", "last_name", "title", "company", "location")
COMPANY_FIELDS = ("name", "industry", "size", "linkedin_url", "country")
BATCH = 50
DAY_MS = 86_400_000


@dataclass
class Asked:
    key: str
    request: dict[str, Any]


def question(tx: Tx, person: Row) -> Asked | None:
    """What to ask about a person: their best email (business first), name and company."""
    emails = [
        r["value"]
        for r in tx.all("SELECT value FROM person_ids WHERE person_num = ? AND kind = 'email'", (person["num"],))
    ]
    email = email_fields(emails)["email"]
    if email is None:
        return None
    domain = company_domain(email)
    request = {"kind": "person", "email": email, "name": person["name"], "company": person["company"], "domain": domain}
    return Asked(f"person:{email}", request)


class EnrichmentProvider:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        url: str,
        token: str = "",
        timeout_ms: int = 2000,
        ttl_days: int = 30,
        outbound: Outbound | None = None,
        unverified: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.url = url
        self.ttl_ms = ttl_days * DAY_MS
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = sync_client(outbound or Outbound(), timeout_ms / 1000, headers=headers)
        # people only keyless claims named (anyone can make those up) are asked about only if the
        # owner says so: each question may cost them (FOOTFALL_ENRICH_UNVERIFIED)
        self.who = "" if unverified else f" AND ({VERIFIED_SQL})"

    def run_once(self) -> int:
        """Asks about up to BATCH people; answers how many were enriched or settled."""
        people = self.store.read(
            lambda tx: tx.all(
                f"SELECT * FROM people WHERE enriched_at IS NULL{self.who} ORDER BY num LIMIT ?", (BATCH,)
            )
        )
        return sum(self._enrich(person) for person in people)

    def _enrich(self, person: Row) -> bool:
        asked = self.store.read(lambda tx: question(tx, person))
        answer = self._answer(asked) if asked else {}
        if answer is None:
            return False  # the provider failed: ask again on a later run
        now = self.clock.now_ms()
        self.store.write(lambda tx: apply(tx, person, answer, asked, now))
        return True

    def _answer(self, asked: Asked) -> dict[str, Any] | None:
        """The provider's answer (empty when it knows nothing), from the cache if fresh; None on failure."""
        now = self.clock.now_ms()
        cached = self.store.read(lambda tx: tx.one("SELECT * FROM enrichment_cache WHERE key = ?", (asked.key,)))
        if cached is not None and now - cached["fetched_at"] < self.ttl_ms:
            return dict(loads(cached["answer"]))
        try:
            response = self.client.post(self.url, json=asked.request)
        except httpx.HTTPError as exc:
            log.warning("enrichment provider unreachable: %s", exc)
            return None
        if response.status_code == 404:
            answer: dict[str, Any] = {}
        elif response.status_code == 200:
            try:
                answer = response.json()
            except ValueError:
                log.warning("enrichment provider answered with something that is not JSON")
                return None
            if not isinstance(answer, dict):
                return None
        else:
            log.warning("enrichment provider answered %s", response.status_code)
            return None
        self.store.write(lambda tx: _cache(tx, asked.key, answer, now))
        return answer

    def close(self) -> None:
        self.client.close()


def _cache(tx: Tx, key: str, answer: dict[str, Any], now: int) -> None:
    tx.execute("DELETE FROM enrichment_cache WHERE key = ?", (key,))
    tx.execute(
        "INSERT INTO enrichment_cache (key, found, answer, fetched_at) VALUES (?, ?, ?, ?)",
        (key, int(bool(answer)), dumps(answer), now),
    )


def _strings(given: Any, names: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(given, dict):
        return {}
    return {
        k: str(given[k]).strip()[:255] for k in names if isinstance(given.get(k), (str, int)) and str(given[k]).strip()
    }


def apply(tx: Tx, person: Row, answer: dict[str, Any], asked: Asked | None, now: int) -> None:
    """Fills the person's (and their company's) empty fields from the answer; marks them asked."""
    current = tx.one("SELECT * FROM people WHERE num = ?", (person["num"],))
    if current is None:
        return  # deleted meanwhile
    given = {k: v for k, v in _strings(answer.get("person"), PERSON_FIELDS).items() if not current[k]}
    sources = loads(current["sources"]) | {k: "provider" for k in given}
    sets = "".join(f", {k} = ?" for k in given)
    tx.execute(
        f"UPDATE people SET enriched_at = ?, sources = ?{sets} WHERE num = ?",
        (now, dumps(sources), *given.values(), person["num"]),
    )
    domain = asked.request.get("domain") if asked else None
    company = _strings(answer.get("company"), COMPANY_FIELDS)
    if not domain or not company:
        return
    row = tx.one("SELECT * FROM companies WHERE site_num = ? AND domain = ?", (current["site_num"], domain))
    if row is None:
        columns = ", ".join(company)
        tx.execute(
            f"INSERT INTO companies (site_num, domain, source, created_at, updated_at, {columns}) "
            f"VALUES (?, ?, 'provider', ?, ?{', ?' * len(company)})",
            (current["site_num"], domain, now, now, *company.values()),
        )
    else:
        empty = {k: v for k, v in company.items() if not row[k]}
        if empty:
            sets = "".join(f", {k} = ?" for k in empty)
            tx.execute(f"UPDATE companies SET updated_at = ?{sets} WHERE num = ?", (now, *empty.values(), row["num"]))
