"""Segments: per-site rules that put identified people in named groups (docs/people.md).

A segment's rules are all required (AND); a list in a rule means any of its values (OR):

- `path`: a visited page path matches one of these globs (`/pricing`, `/docs/*`);
- `country`: a visit came from one of these ISO country codes;
- `companyDomain` / `industry`: the person's company domain / industry is one of these;
- `businessEmail`: the person has (true) or has not (false) a business email;
- `goal`: the person completed one of these goals;
- `minScore`: the person's lead score (0-100, docs/scoring.md) is at least this; a person with
  no prediction (a customer, or a site with no conversions yet) is not matched.

A person's segments are evaluated when read, so a new or changed segment applies to everyone
at once. Floqer's rows carry the first matching segment's `segmentId` and `segmentName`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

import msgspec

from footfall.store.base import Row, Tx, dumps, loads


class Rules(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    path: list[str] | None = None
    country: list[str] | None = None
    companyDomain: list[str] | None = None  # noqa: N815 - the native API's camelCase
    industry: list[str] | None = None
    businessEmail: bool | None = None  # noqa: N815
    goal: list[str] | None = None
    minScore: float | None = None  # noqa: N815


class SegmentBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    rules: Rules


@dataclass(frozen=True)
class Facts:
    """What the rules look at, for one person."""

    paths: set[str]
    countries: set[str]
    goals: set[str]
    company_domain: str | None
    industry: str | None
    business_email: bool
    score: float | None = None


def _lower(values: list[str] | None) -> list[str] | None:
    return None if values is None else [v.strip().lower() for v in values]


def matches(rules: Rules, facts: Facts) -> bool:
    if rules.path is not None and not any(fnmatch.fnmatchcase(p, g) for p in facts.paths for g in rules.path):
        return False
    if rules.country is not None and not {c.upper() for c in rules.country} & facts.countries:
        return False
    domains = _lower(rules.companyDomain)
    if domains is not None and (facts.company_domain or "") not in domains:
        return False
    industries = _lower(rules.industry)
    if industries is not None and (facts.industry or "").lower() not in industries:
        return False
    if rules.businessEmail is not None and rules.businessEmail != facts.business_email:
        return False
    if rules.goal is not None and not set(rules.goal) & facts.goals:
        return False
    return rules.minScore is None or (facts.score is not None and facts.score >= rules.minScore)


def facts_of(tx: Tx, person_num: int, body: dict[str, Any]) -> Facts:
    """From the person's visits and their `person_body`."""
    # through the visitors' index (events.session_num has none: that was a scan of every event)
    visits = (
        "visitor_num IN (SELECT visitor_num FROM sessions WHERE person_num = ?) "
        "AND session_num IN (SELECT num FROM sessions WHERE person_num = ?)"
    )
    paths = tx.all(f"SELECT DISTINCT path FROM events WHERE type = 'pageview' AND {visits}", (person_num, person_num))
    goals = tx.all(f"SELECT DISTINCT name FROM events WHERE type = 'custom' AND {visits}", (person_num, person_num))
    countries = tx.all(
        "SELECT DISTINCT country_code FROM sessions WHERE person_num = ? AND country_code IS NOT NULL", (person_num,)
    )
    return Facts(
        paths={r["path"] for r in paths},
        countries={r["country_code"] for r in countries},
        goals={r["name"] for r in goals if r["name"]},
        company_domain=body.get("companyDomain"),
        industry=body.get("industry"),
        business_email=body.get("businessEmail") is not None,
        score=body["prediction"]["score"] if body.get("prediction") else None,
    )


def site_segments(tx: Tx, site_num: int) -> list[Row]:
    return tx.all("SELECT * FROM segments WHERE site_num = ? ORDER BY num", (site_num,))


def segments_of(tx: Tx, person_num: int, body: dict[str, Any], segments: list[Row]) -> list[dict[str, str]]:
    """The segments a person is in, in the order they were made."""
    if not segments:
        return []
    facts = facts_of(tx, person_num, body)
    decoded = [(s, msgspec.json.decode(s["rules"], type=Rules)) for s in segments]
    return [{"segmentId": s["id"], "segmentName": s["name"]} for s, rules in decoded if matches(rules, facts)]


def segment_json(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "rules": loads(row["rules"])}


def encode_rules(rules: Rules) -> str:
    return dumps(msgspec.to_builtins(rules))
