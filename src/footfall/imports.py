"""Contacts and companies import: CSV or JSON, idempotent upserts by email / by domain.

JSON: `{"contacts": [...], "companies": [...]}` (or a bare list of contacts). CSV: a header row;
the rows are companies when the header has `domain` and no `email`, else contacts. Contact
columns are those identify calls use (`email` required; `user_id`, `name`, `first_name`,
`last_name`, `title`, `company`, `phone`, `location`; anything else becomes metadata). Company
columns: `domain` (required), `name`, `industry`, `size`, `linkedin_url`, `country`.

Imported traits replace what is stored (the owner's data is the best source there is). Every
contact gets its email-link token (docs/people.md). Importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from footfall.enrich.email import registrable_domain
from footfall.identity.claims import Claim, lock_keys
from footfall.identity.people import People
from footfall.ids import LinkSigner
from footfall.model import Site
from footfall.store.base import Tx

MAX_ROWS = 10_000
COMPANY_COLUMNS = ("name", "industry", "size", "linkedin_url", "country")
COMPANY_ALIASES = {"linkedinUrl": "linkedin_url", "linkedin": "linkedin_url", "company_name": "name"}


class BadImport(ValueError):
    """The file as a whole cannot be read."""


@dataclass
class ImportResult:
    contacts_created: int = 0
    contacts_updated: int = 0
    companies_created: int = 0
    companies_updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "contacts": {"created": self.contacts_created, "updated": self.contacts_updated},
            "companies": {"created": self.companies_created, "updated": self.companies_updated},
            "errors": self.errors,
            "links": self.links,
        }


def parse(body: bytes, content_type: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(contacts, companies) from a JSON or CSV body."""
    text = body.decode("utf-8-sig", errors="strict")
    if "csv" in content_type or (not text.lstrip().startswith(("{", "[")) and "json" not in content_type):
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(io.StringIO(text))]
        header = set(rows[0]) if rows else set()
        contacts, companies = ([], rows) if "domain" in header and "email" not in header else (rows, [])
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadImport(f"not valid JSON: {exc}") from exc
        if isinstance(data, list):
            data = {"contacts": data}
        if not isinstance(data, dict):
            raise BadImport('expected {"contacts": [...], "companies": [...]} or a list of contacts')
        contacts, companies = data.get("contacts") or [], data.get("companies") or []
        if not isinstance(contacts, list) or not isinstance(companies, list):
            raise BadImport("contacts and companies must be lists")
    if len(contacts) + len(companies) > MAX_ROWS:
        raise BadImport(f"at most {MAX_ROWS} rows per import")
    return contacts, companies


def company_domain_of(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    host = raw.strip().lower().split("://")[-1].split("/")[0].removeprefix("www.")
    return registrable_domain(host)


def import_rows(
    tx: Tx, site: Site, contacts: list[Any], companies: list[Any], now: int, links: LinkSigner
) -> ImportResult:
    result = ImportResult()
    for i, row in enumerate(companies):
        domain = company_domain_of(row.get("domain")) if isinstance(row, dict) else None
        if domain is None:
            result.errors.append({"row": i, "kind": "company", "message": "domain is required (e.g. acme.com)"})
            continue
        values = {COMPANY_ALIASES.get(k, k): v for k, v in row.items()}
        given = {k: str(values[k])[:255] for k in COMPANY_COLUMNS if values.get(k) not in (None, "")}
        existing = tx.one("SELECT num FROM companies WHERE site_num = ? AND domain = ?", (site.num, domain))
        if existing is None:
            columns = ", ".join(given)
            tx.execute(
                f"INSERT INTO companies (site_num, domain, created_at, updated_at{', ' + columns if given else ''}) "
                f"VALUES (?, ?, ?, ?{', ?' * len(given)})",
                (site.num, domain, now, now, *given.values()),
            )
            result.companies_created += 1
        else:
            sets = "".join(f", {k} = ?" for k in given)
            tx.execute(
                f"UPDATE companies SET updated_at = ?{sets} WHERE num = ?", (now, *given.values(), existing["num"])
            )
            result.companies_updated += 1
    claims: list[tuple[int, Claim]] = []
    for i, row in enumerate(contacts):
        claim = Claim.from_properties(site.num, now, "import", row) if isinstance(row, dict) else None
        if claim is None or claim.email is None:
            result.errors.append({"row": i, "kind": "contact", "message": "email is required (a valid address)"})
            continue
        claims.append((i, claim))
    tx.lock(lock_keys([c for _, c in claims]))
    people = People(tx)
    for _, claim in claims:
        known = tx.one(
            "SELECT 1 AS one FROM person_ids WHERE site_num = ? AND kind = 'email' AND value = ?",
            (site.num, claim.email),
        )
        person = people.claim(claim)
        assert person is not None
        if known:
            result.contacts_updated += 1
        else:
            result.contacts_created += 1
        token = links.token(site.id, person["id"], now)
        result.links.append({"email": str(claim.email), "personId": person["id"], "token": token})
    return result
