"""People: who a visitor is, when they say so first-party (docs/people.md).

A `Claim` is what one identification says: strong ids (a user id, an email) and traits, with
where it came from. `People` turns claims into people inside a write transaction:

- The ids name the person: a known user id or email finds its person; none known creates one.
- A user id and an email naming two different people merge them when the email's person has no
  user id (someone who gave their email on one device and signed in on another). An email whose
  person has other user ids is another account sharing that address: the user id's person is
  used (or created) and the email stays where it is. Two people with user ids never merge here.
- A captured form naming nobody known adds its email to the person the visitor already is.
- The visitor is linked to the person, with its anonymous history (its sessions without a
  person, across its browsers). A visitor already linked to someone else is a shared computer:
  it switches to the new person from now on, and what the previous person did stays theirs.
- Junk ids (empty, "null", "undefined", "anonymous", "0", ...) and malformed emails never
  identify anyone.

Writers lock the ids they claim (`lock_keys`), after their visitor locks, so two requests
naming the same person never create two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from footfall import ids
from footfall.store.base import Row, Tx, dumps, loads

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
    source: str  # identify | form | link | payment | import
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
    def strong_ids(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("user_id", self.user_id), ("email", self.email)) if v]


def lock_keys(claims: list[Claim]) -> list[str]:
    return [f"person:{c.site_num}:{kind}:{value}" for c in claims for kind, value in c.strong_ids]


class People:
    """Claims into people, and people linked to visitors, inside one write transaction."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.merged: dict[int, int] = {}  # person num -> the person it was merged into, in this transaction

    def current(self, num: int | None) -> int | None:
        """`num`, or the person it was merged into since."""
        while num in self.merged:
            num = self.merged[num]
        return num

    def claim(self, claim: Claim, known: int | None = None) -> Row | None:
        """The person this claim names (created, extended or merged as needed); None without a strong id.
        `known`: the person the visitor already is, who takes ids nobody holds (a signed-in user
        giving their email in a form) instead of a new person being made."""
        wanted = claim.strong_ids
        if not wanted:
            return None
        found: dict[str, int] = {}
        for kind, value in wanted:
            row = self.tx.one(
                "SELECT person_num FROM person_ids WHERE site_num = ? AND kind = ? AND value = ?",
                (claim.site_num, kind, value),
            )
            if row is not None:
                found[kind] = row["person_num"]
        by_user, by_email = found.get("user_id"), found.get("email")
        if by_email and claim.user_id and by_user != by_email and self._user_ids(by_email):
            # the email's person has user ids, and not this one: another account sharing the email
            by_email = None
        target = by_user or by_email
        if by_user and by_email and by_user != by_email:
            self.merge(by_email, by_user)
        holder = found.get("email")
        if holder is not None and holder != target and holder not in self.merged:
            claim = replace(claim, email=None)  # another person's email: not this one's in any way
        if target is None:
            target = known if known is not None and claim.user_id is None else self._create(claim)
        for kind, value in claim.strong_ids:
            if kind not in found:  # an id someone else holds stays theirs
                self.tx.execute(
                    "INSERT INTO person_ids (site_num, kind, value, person_num) VALUES (?, ?, ?, ?)",
                    (claim.site_num, kind, value, target),
                )
        self._update(target, claim)
        return self.tx.one("SELECT * FROM people WHERE num = ?", (target,))

    def _create(self, claim: Claim) -> int:
        [num] = self.tx.allocate("people", 1)
        self.tx.execute(
            "INSERT INTO people (num, id, site_num, created_at, identified_at, user_id, email, sources) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                num,
                ids.person_id(),
                claim.site_num,
                claim.ts,
                claim.ts,
                claim.user_id,
                claim.email,
                dumps({kind: claim.source for kind, _ in claim.strong_ids}),
            ),
        )
        return num

    def _update(self, num: int, claim: Claim) -> None:
        """Traits from identify calls and imports replace what is there; forms, links and payments
        only fill what is missing. Each field written records its source."""
        person = self.tx.one("SELECT * FROM people WHERE num = ?", (num,))
        assert person is not None
        overwrite = claim.source in ("identify", "import")
        sources = loads(person["sources"])
        values = dict(claim.traits)
        if claim.user_id and not person["user_id"]:
            values["user_id"] = claim.user_id
        if claim.email and not person["email"]:
            values["email"] = claim.email
        changes = {k: v for k, v in values.items() if overwrite or not person[k]}
        for k in changes:
            sources[k] = claim.source
        metadata = {**loads(person["metadata"]), **claim.metadata}
        assignments = "".join(f", {k} = ?" for k in changes)
        self.tx.execute(
            f"UPDATE people SET identified_at = ?, metadata = ?, sources = ?{assignments} WHERE num = ?",
            (max(claim.ts, person["identified_at"]), dumps(metadata), dumps(sources), *changes.values(), num),
        )

    def _user_ids(self, num: int) -> set[str]:
        rows = self.tx.all("SELECT value FROM person_ids WHERE kind = 'user_id' AND person_num = ?", (num,))
        return {r["value"] for r in rows}

    def merge(self, source: int, into: int) -> None:
        """Everything of `source` becomes `into`'s; `source`'s id keeps finding `into`."""
        gone = self.tx.one("SELECT * FROM people WHERE num = ?", (source,))
        kept = self.tx.one("SELECT * FROM people WHERE num = ?", (into,))
        assert gone is not None and kept is not None
        for table in ("person_ids", "visitors", "sessions", "payments"):
            self.tx.execute(f"UPDATE {table} SET person_num = ? WHERE person_num = ?", (into, source))
        fill = {k: gone[k] for k in ("user_id", "email", *TRAITS) if gone[k] and not kept[k]}
        sources = {**{k: v for k, v in loads(gone["sources"]).items() if k in fill}, **loads(kept["sources"])}
        metadata = {**loads(gone["metadata"]), **loads(kept["metadata"])}
        assignments = "".join(f", {k} = ?" for k in fill)
        self.tx.execute(
            f"UPDATE people SET identified_at = ?, created_at = ?, metadata = ?, sources = ?{assignments} "
            "WHERE num = ?",
            (
                max(gone["identified_at"], kept["identified_at"]),
                min(gone["created_at"], kept["created_at"]),
                dumps(metadata),
                dumps(sources),
                *fill.values(),
                into,
            ),
        )
        self.tx.execute("UPDATE merged_people SET into_num = ? WHERE into_num = ?", (into, source))
        self.tx.execute("INSERT INTO merged_people (id, into_num) VALUES (?, ?)", (gone["id"], into))
        self.tx.execute("DELETE FROM people WHERE num = ?", (source,))
        self.merged[source] = into

    def link(self, root: int, person: int) -> int | None:
        """Links the visitor `root` (with its aliases) to `person`; its sessions without a person
        become the person's. Answers the person it was linked to before (None if anonymous)."""
        row = self.tx.one("SELECT person_num FROM visitors WHERE num = ?", (root,))
        before = row["person_num"] if row else None
        if before != person:
            self.tx.execute("UPDATE visitors SET person_num = ? WHERE num = ?", (person, root))
        browsers = "(SELECT num FROM visitors WHERE num = ? OR alias_of = ?)"
        self.tx.execute(
            f"UPDATE sessions SET person_num = ? WHERE person_num IS NULL AND visitor_num IN {browsers}",
            (person, root, root),
        )
        # the latest visit, if its person was only presumed (a shared computer's next user), is theirs
        self.tx.execute(
            f"UPDATE sessions SET person_num = ?, identified = 1 WHERE identified = 0 AND num = "
            f"(SELECT MAX(num) FROM sessions WHERE visitor_num IN {browsers})",
            (person, root, root),
        )
        return before


def find_person(tx: Tx, site_num: int, person_id: str) -> Row | None:
    """By id, following merges."""
    row = tx.one("SELECT * FROM people WHERE id = ? AND site_num = ?", (person_id, site_num))
    if row is None:
        merged = tx.one("SELECT into_num FROM merged_people WHERE id = ?", (person_id,))
        if merged is not None:
            row = tx.one("SELECT * FROM people WHERE num = ? AND site_num = ?", (merged["into_num"], site_num))
    return row
