"""Floqer's visitor sources: the rows a source holds, kept by the event writer (docs/workflows.md).

- `track_personal_website_visitors`: one row per person. It is created at the first event, while
  the source is active, of a visit that belongs to a person (someone who identified on the site:
  identify, form capture, email link, payment email; a returning browser's later visits are theirs
  too), and updated by each later event of theirs: contact and company fields as they fill in,
  the visit fields from their latest page view (`pageUrl`, `pageTitle`) and visit (`referrer`,
  UTM), `lastVisitAt`. `firstVisitAt` is the person's first visit.
- `track_website_visitors`: one row per company. A visit belongs to a company when its person has
  a business email (the company is its domain, named by the owner's import or the person), or,
  anonymous, when it comes from a network a business runs itself (the network owner,
  docs/people.md). The row is created at the first such event while the source is active and
  counts what it has seen since: visits, distinct paths (latest first), identified people,
  first and last visit.

A paused source takes in nothing. A new row queues one delivery for each workflow the source is
synced to, in the same transaction (workflows.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from footfall.clock import iso_ms
from footfall.enrich.networks import HostingNetworks, kind_of_network
from footfall.identity.sessions import SessionState
from footfall.model import Event
from footfall.queries.people import person_body
from footfall.store.base import Row, Tx, dumps, loads

PERSONAL = "track_personal_website_visitors"
COMPANY = "track_website_visitors"
KINDS = (PERSONAL, COMPANY)
SCORE_FIELDS = ("leadScore", "conversionRate", "expectedValue", "scoreConfidence")
# how the person was identified (docs/people.md, "How sure"): the strongest route, when, whether an
# authority (keyed identify, import, payment, email link) did it, or only keyless claims
IDENTIFICATION_FIELDS = ("identifiedBy", "identifiedAt", "verified")
FIELDS: dict[str, tuple[str, ...]] = {
    PERSONAL: (
        *("firstName", "lastName", "email", "businessEmail", "personalEmail", "title", "location"),
        *("department", "seniority", "company", "companyDomain", "companyLinkedinUrl", "industry", "country"),
        *("pageUrl", "pageTitle", "referrer", "firstVisitAt", "lastVisitAt"),
        *("utmSource", "utmMedium", "utmCampaign", "utmContent", "utmTerm", "segmentName", "segmentId"),
        *SCORE_FIELDS,
        *IDENTIFICATION_FIELDS,
    ),
    COMPANY: (
        *("company", "companyDomain", "companyLinkedinUrl", "industry", "country", "visitedPages"),
        *("visitCount", "firstVisitAt", "lastVisitAt", "identifiedPeopleCount"),
    ),
}
MAX_PAGES = 100
RECENT_VISITS = 200  # a company row remembers its latest visits, to count each once


@dataclass
class Touch:
    """Something that happened to a visit: an event the writer wrote, or an identification through
    the API (then without a page)."""

    site_id: str
    site_num: int
    ts: int
    type: str
    session_num: int
    person_num: int | None
    href: str | None = None
    title: str | None = None
    path: str | None = None
    asn: int | None = None
    as_organization: str | None = None

    @classmethod
    def of(cls, event: Event, session: SessionState) -> Touch:
        return cls(
            event.site_id,
            event.site_num,
            event.ts,
            event.type,
            session.num,
            session.person_num,
            event.href,
            event.title,
            event.path,
            event.asn,
            event.as_organization,
        )


def row_json(row: Row) -> dict[str, Any]:
    """A row as the data endpoint and the deliveries show it."""
    return {"id": str(row["num"]), **loads(row["data"]), "createdAt": iso_ms(row["created_at"])} | {
        "updatedAt": iso_ms(row["updated_at"])
    }


def score_fields(prediction: dict[str, Any] | None) -> dict[str, Any]:
    """A person row's lead score (docs/scoring.md): null for customers and sites without conversions."""
    p = prediction or {}
    keys = ("score", "conversionRate", "expectedValue", "confidence")
    return {field: p.get(key) for field, key in zip(SCORE_FIELDS, keys, strict=True)}


class SourceRows:
    """In the write transaction: events of sites with active sources create and update rows."""

    def __init__(self, tx: Tx, hosting: HostingNetworks) -> None:
        self.tx = tx
        self.hosting = hosting
        self._active: dict[str, list[Row]] = {}

    def active(self, site_id: str) -> list[Row]:
        if site_id not in self._active:
            self._active[site_id] = self.tx.all(
                "SELECT id, kind FROM sources WHERE site_id = ? AND status = 'active' ORDER BY num", (site_id,)
            )
        return self._active[site_id]

    def apply(self, seen: list[Touch]) -> list[int]:
        """Updates the rows these events touch; answers the nums of the rows created."""
        created: list[int] = []
        relevant = [s for s in seen if s.type != "identification" and self.active(s.site_id)]
        people: dict[tuple[str, int], Touch] = {}
        for s in relevant:
            if s.person_num is not None:
                people[(s.site_id, s.person_num)] = s  # the person's latest event wins
        bodies = {}
        for (site_id, person_num), s in people.items():
            person = self.tx.one("SELECT * FROM people WHERE num = ?", (person_num,))
            if person is None:
                continue
            bodies[person_num] = body = person_body(self.tx, person)
            for source in self.active(site_id):
                if source["kind"] == PERSONAL:
                    created += self._person_row(source["id"], person_num, body, s)
        for s in relevant:
            if any(source["kind"] == COMPANY for source in self.active(s.site_id)):
                key, facts = self._company_of(s, bodies)
                if key is not None:
                    for source in self.active(s.site_id):
                        if source["kind"] == COMPANY:
                            created += self._company_row(source["id"], key, facts, s)
        return created

    def _person_row(self, source_id: str, person_num: int, body: dict[str, Any], s: Touch) -> list[int]:
        key = f"person:{person_num}"
        found = self.tx.one("SELECT num, data FROM source_rows WHERE source_id = ? AND row_key = ?", (source_id, key))
        data = {f: body.get(f) for f in FIELDS[PERSONAL]}
        first_segment = (body.get("segments") or [{}])[0]
        data |= {"segmentName": first_segment.get("segmentName"), "segmentId": first_segment.get("segmentId")}
        data["personId"] = body["id"]
        data |= score_fields(body.get("prediction"))
        how = body["identification"]
        data |= {"identifiedBy": how["by"], "identifiedAt": how["at"], "verified": how["verified"]}
        old = loads(found["data"]) if found else {}
        if found is not None and how["verified"] and old.get("verified") is False:
            release_held(self.tx, found["num"], s.ts)  # an authority confirmed them: held deliveries go
        visit = self.tx.one(
            "SELECT visitor_num, referrer, utm_source, utm_medium, utm_campaign, params FROM sessions WHERE num = ?",
            (s.session_num,),
        )
        if s.type == "pageview":
            data["pageUrl"], data["pageTitle"] = s.href, s.title
        elif old.get("pageUrl") or visit is None:
            data["pageUrl"], data["pageTitle"] = old.get("pageUrl"), old.get("pageTitle")
        else:  # identified through the API: the visit's latest page view
            page = self.tx.one(
                "SELECT href, title FROM events WHERE visitor_num = ? AND session_num = ? AND type = 'pageview' "
                "ORDER BY ts DESC LIMIT 1",
                (visit["visitor_num"], s.session_num),
            )
            data["pageUrl"], data["pageTitle"] = (page["href"], page["title"]) if page else (None, None)
        params = loads(visit["params"]) if visit else {}
        data |= {
            "referrer": visit["referrer"] if visit else None,
            "utmSource": visit["utm_source"] if visit else None,
            "utmMedium": visit["utm_medium"] if visit else None,
            "utmCampaign": visit["utm_campaign"] if visit else None,
            "utmContent": params.get("utm_content"),
            "utmTerm": params.get("utm_term"),
        }
        return self._upsert(source_id, key, person_num, found, data, {}, s.ts)

    def _company_of(self, s: Touch, bodies: dict[int, dict[str, Any]]) -> tuple[str | None, dict[str, Any]]:
        person_num = s.person_num
        if person_num is not None:
            body = bodies.get(person_num)
            domain = body.get("companyDomain") if body else None
            if domain is None:
                return None, {}
            imported = self.tx.one("SELECT * FROM companies WHERE site_num = ? AND domain = ?", (s.site_num, domain))
            assert body is not None
            return f"domain:{domain}", {
                "company": (imported["name"] if imported else None) or body.get("company"),
                "companyDomain": domain,
                "companyLinkedinUrl": imported["linkedin_url"] if imported else None,
                "industry": imported["industry"] if imported else None,
                "country": imported["country"] if imported else None,
                "person": person_num,
            }
        asn, owner = s.asn, s.as_organization
        if asn is None or kind_of_network(asn, owner, self.hosting) != "business":
            return None, {}
        return f"network:AS{asn}", {
            "company": owner,
            "companyDomain": None,
            "companyLinkedinUrl": None,
            "industry": None,
            "country": None,
            "person": None,
        }

    def _company_row(self, source_id: str, key: str, facts: dict[str, Any], s: Touch) -> list[int]:
        found = self.tx.one(
            "SELECT num, data, state FROM source_rows WHERE source_id = ? AND row_key = ?", (source_id, key)
        )
        data = loads(found["data"]) if found else {"visitCount": 0, "visitedPages": [], "identifiedPeopleCount": 0}
        state = loads(found["state"]) if found else {"visits": [], "people": []}
        data |= {k: v for k, v in facts.items() if k != "person" and (v is not None or k not in data)}
        paths = [s.path] if s.type == "pageview" and s.path else []
        if s.session_num not in state["visits"]:
            state["visits"] = [*state["visits"], s.session_num][-RECENT_VISITS:]
            data["visitCount"] += 1
            if s.type != "pageview":  # attributed mid-visit (an identification): the visit's pages so far
                paths = self._pages_of(s.session_num)
        person = facts.get("person")
        if person is not None and person not in state["people"]:
            state["people"].append(person)
            data["identifiedPeopleCount"] = len(state["people"])
        for path in paths:
            data["visitedPages"] = [path, *(p for p in data["visitedPages"] if p != path)][:MAX_PAGES]
        data["firstVisitAt"] = data.get("firstVisitAt") or iso_ms(s.ts)
        data["lastVisitAt"] = iso_ms(s.ts)
        return self._upsert(source_id, key, None, found, data, state, s.ts)

    def _pages_of(self, session_num: int) -> list[str]:
        """A visit's page views, oldest first."""
        rows = self.tx.all(
            "SELECT e.path FROM sessions s JOIN events e ON e.visitor_num = s.visitor_num AND e.session_num = s.num "
            "WHERE s.num = ? AND e.type = 'pageview' ORDER BY e.ts, e.id",
            (session_num,),
        )
        return [r["path"] for r in rows]

    def _upsert(
        self,
        source_id: str,
        key: str,
        person_num: int | None,
        found: Row | None,
        data: dict[str, Any],
        state: Any,
        now: int,
    ) -> list[int]:
        if found is not None:
            self.tx.execute(
                "UPDATE source_rows SET data = ?, state = ?, updated_at = ? WHERE num = ?",
                (dumps(data), dumps(state), now, found["num"]),
            )
            return []
        [num] = self.tx.allocate("source_rows", 1)
        self.tx.execute(
            "INSERT INTO source_rows (num, source_id, row_key, person_num, data, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (num, source_id, key, person_num, dumps(data), dumps(state), now, now),
        )
        return [num]


def release_held(tx: Tx, row_num: int, now: int) -> None:
    """Deliveries held for an unverified person (a workflow's `hold_unverified`) become due."""
    tx.execute(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE row_num = ? AND status = 'held'",
        (now, row_num),
    )
