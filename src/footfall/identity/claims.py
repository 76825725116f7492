"""Claims: what one identification says about a visitor, and how much it can be trusted
(docs/people.md, "How sure").

A claim comes by a route. Keyed and signed routes are an authority: the owner's server calling
the keyed identify API (`api`), an import (`import`), a payment (`payment`: a provider's signed
webhook or the keyed payments API), an email link (`link`: a token only the owner can make).
Keyless routes, which anyone who knows the site's public id can send, are claims: the tracker's
identify call and PostMetric's keyless identify (`identify`), an opted-in form (`form`). A claim
never overrides an authority (identity/people.py says how).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

AUTHORITIES = frozenset({"api", "import", "payment", "link"})
# people.routes names an authority (a JSON object's keys, on either store)
VERIFIED_SQL = " OR ".join(f"routes LIKE '%\"{route}\"%'" for route in sorted(AUTHORITIES))
ROUTES = ("api", "import", "payment", "link", "identify", "form")  # strongest first

# Ids that analytics libraries and forms send when they have none (PostHog keeps a similar list).
JUNK_IDS = frozenset(
    {
        "",
        "0",
        "-1",
        "1",
        "null",
        "undefined",
        "none",
        "nil",
        "nan",
        "true",
        "false",
        "anonymous",
        "anon",
        "guest",
        "unknown",
        "user",
        "userid",
        "user_id",
        "id",
        "email",
        "distinct_id",
        "distinctid",
        "not_authenticated",
        "[object object]",
        "{}",
        "[]",
        "test",
    }
)
EMAIL = re.compile(r"^[^@\s<>(),;:\"]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$")
MAX_ID = 255
MAX_TRAIT = 255
TRAITS = ("name", "first_name", "last_name", "title", "company", "phone", "image", "location")
# Property names identify calls and forms use for each field.
ALIASES = {
    "user_id": "user_id",
    "userId": "user_id",
    "userid": "user_id",
    "email": "email",
    "email_address": "email",
    "emailAddress": "email",
    "name": "name",
    "full_name": "name",
    "fullName": "name",
    "first_name": "first_name",
    "firstName": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "lastName": "last_name",
    "family_name": "last_name",
    "title": "title",
    "job_title": "title",
    "jobTitle": "title",
    "company": "company",
    "company_name": "company",
    "organization": "company",
    "phone": "phone",
    "phone_number": "phone",
    "image": "image",
    "avatar": "image",
    "location": "location",
}
MAX_METADATA = 20


def clean_id(value: Any) -> str | None:
    """A usable user id, or None for junk."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    if text.lower() in JUNK_IDS or len(text) > MAX_ID:
        return None
    return text


def clean_email(value: Any) -> str | None:
    """A lower-cased email that looks like one, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not EMAIL.match(text) or text.split("@")[0] in JUNK_IDS:
        return None
    return text


@dataclass
class Claim:
    """What one identification says about a visitor."""

    site_num: int
    ts: int
    source: str  # a route: api, import, payment, link (authorities); identify, form (claims)
    user_id: str | None = None
    email: str | None = None
    traits: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_properties(cls, site_num: int, ts: int, source: str, props: dict[str, Any]) -> Claim:
        """From identify-style properties (DataFast's `user_id`, PostMetric's `userId`, traits, the rest)."""
        claim = cls(site_num, ts, source)
        for key, value in props.items():
            name = ALIASES.get(key)
            if name == "user_id":
                claim.user_id = clean_id(value)
            elif name == "email":
                claim.email = clean_email(value)
            elif name is not None:
                if isinstance(value, (str, int, float)) and str(value).strip():
                    claim.traits[name] = str(value).strip()[:MAX_TRAIT]
            elif len(claim.metadata) < MAX_METADATA and not isinstance(value, (dict, list)):
                claim.metadata[key[:64]] = value if isinstance(value, (int, float, bool)) else str(value)[:MAX_TRAIT]
        return claim

    @property
    def authority(self) -> bool:
        """Keyed or signed: the owner's own word (see the module's docstring)."""
        return self.source in AUTHORITIES

    @property
    def strong_ids(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("user_id", self.user_id), ("email", self.email)) if v]


def lock_keys(claims: list[Claim]) -> list[str]:
    return [f"person:{c.site_num}:{kind}:{value}" for c in claims for kind, value in c.strong_ids]
