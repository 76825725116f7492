"""Companies visiting a site (docs/people.md), from three sources, each named in `source`:

- `import`: companies the owner imported (by domain);
- `email_domain`: the registrable domain of identified people's business emails;
- `network`: anonymous visits from a network a business runs itself (`kind_of_network`), named
  by the network's registered owner. Networks of ISPs, mobile carriers, hosting providers, and
  owners whose name says nothing certain, name no company.

Domain companies count their identified people and those people's visits; network companies
count the anonymous visits and visitors from the network.
"""

from __future__ import annotations

from typing import Any

from footfall.clock import iso_ms
from footfall.enrich.email import company_domain
from footfall.enrich.networks import HostingNetworks, kind_of_network
from footfall.store.base import Row, Tx


def imported(tx: Tx, site_num: int, domain: str | None) -> Row | None:
    if domain is None:
        return None
    return tx.one("SELECT * FROM companies WHERE site_num = ? AND domain = ?", (site_num, domain))


def _people_by_domain(tx: Tx, site_num: int) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for r in tx.all("SELECT value, person_num FROM person_ids WHERE site_num = ? AND kind = 'email'", (site_num,)):
        domain = company_domain(r["value"])
        if domain:
            found.setdefault(domain, set()).add(r["person_num"])
    return found


def _domain_company(tx: Tx, site_num: int, domain: str, people: set[int], row: Row | None) -> dict[str, Any]:
    activity = named = None
    if people:
        nums = sorted(people)
        marks = ",".join("?" * len(nums))
        activity = tx.one(
            f"SELECT COUNT(*) AS visits, MAX(last_seen) AS last_seen FROM sessions WHERE person_num IN ({marks})", nums
        )
        given = tx.one(f"SELECT MIN(company) AS company FROM people WHERE num IN ({marks})", nums)
        named = given["company"] if given else None
    return {
        "key": domain,
        "domain": domain,
        "name": (row["name"] if row else None) or named,
        "industry": row["industry"] if row else None,
        "size": row["size"] if row else None,
        "linkedinUrl": row["linkedin_url"] if row else None,
        "country": row["country"] if row else None,
        "source": row["source"] if row else "email_domain",
        "asn": None,
        "people": len(people),
        "visits": activity["visits"] if activity else 0,
        "lastVisitAt": iso_ms(activity["last_seen"]) if activity else None,
    }


def _network_companies(tx: Tx, site_num: int, hosting: HostingNetworks) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT asn, MAX(as_organization) AS name, COUNT(*) AS visits, COUNT(DISTINCT visitor_num) AS visitors, "
        "MAX(last_seen) AS last_seen FROM sessions WHERE site_num = ? AND person_num IS NULL AND asn IS NOT NULL "
        "GROUP BY asn",
        (site_num,),
    )
    return [
        {
            "key": f"AS{r['asn']}",
            "domain": None,
            "name": r["name"],
            "industry": None,
            "size": None,
            "linkedinUrl": None,
            "country": None,
            "source": "network",
            "asn": r["asn"],
            "people": 0,
            "visits": r["visits"],
            "visitors": r["visitors"],
            "lastVisitAt": iso_ms(r["last_seen"]),
        }
        for r in rows
        if kind_of_network(r["asn"], r["name"], hosting) == "business"
    ]


def companies(tx: Tx, site_num: int, hosting: HostingNetworks) -> list[dict[str, Any]]:
    """Every company of the site, the most recently seen first (never seen: last, by name)."""
    people = _people_by_domain(tx, site_num)
    rows = {r["domain"]: r for r in tx.all("SELECT * FROM companies WHERE site_num = ?", (site_num,))}
    found = [_domain_company(tx, site_num, d, people.get(d, set()), rows.get(d)) for d in sorted({*people, *rows})]
    found += _network_companies(tx, site_num, hosting)
    found.sort(key=lambda c: (c["lastVisitAt"] or "", c["name"] or c["key"]), reverse=True)
    return found


def company(tx: Tx, site_num: int, key: str, hosting: HostingNetworks) -> dict[str, Any] | None:
    """One company by domain, or by `AS<number>` for a business network; with its people."""
    if key.upper().startswith("AS") and key[2:].isdigit():
        return next((c for c in _network_companies(tx, site_num, hosting) if c["key"] == key.upper()), None)
    domain = key.strip().lower()
    people = _people_by_domain(tx, site_num).get(domain, set())
    row = imported(tx, site_num, domain)
    if not people and row is None:
        return None
    return _domain_company(tx, site_num, domain, people, row) | {"personNums": sorted(people)}
