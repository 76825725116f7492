"""People: who a visitor is, when they say so first-party (docs/people.md).

`People` turns claims (identity/claims.py) into people inside a write transaction:

- The ids name the person: a known user id or email finds its person; none known creates one.
- A user id and an email naming two different people merge them when the email's person has no
  user id (someone who gave their email on one device and signed in on another). An email whose
  person has other user ids is another account sharing that address: the user id's person is
  used (or created) and the email stays where it is. Two people with user ids never merge here.
- A captured form naming nobody known adds its email to the person the visitor already is.
- The browser is linked to the person, with its anonymous history (its own sessions without a
  person; a browser only presumed to be it, matched by device signals, is not: it joins when it
  confirms itself). A browser already linked to someone else is a shared computer: it switches to
  the new person from now on, and what the previous person did stays theirs.
- A keyless claim (the tracker's or PostMetric's identify, a form) never overrides an authority
  (a keyed identify, an import, a payment, an email link). A person an authority named is
  `verified`; a keyless claim naming any of its ids changes nothing of them (no id, trait, merge
  or browser; only from that person's own browser may it add ids nobody holds), and becomes a
  person of its own holding the ids nobody holds, with `conflict_of` naming the verified person,
  for an explicit merge (the same claim finds the same person again).
  A browser that belongs to a verified person is never moved to another by a keyless claim, and
  keyless claims never merge two people.
- Junk ids (empty, "null", "undefined", "anonymous", "0", ...) and malformed emails never
  identify anyone.

Writers lock the ids they claim (`lock_keys`), after their visitor locks, so two requests
naming the same person never create two.
"""

from __future__ import annotations

from dataclasses import replace

from footfall import ids
from footfall.identity.claims import AUTHORITIES, TRAITS, Claim, lock_keys
from footfall.model import Site
from footfall.queries.visitors import visitor_group
from footfall.store.base import Row, Tx, dumps, loads


def verified(person: Row | None) -> bool:
    """An authority named this person (`people.routes`)."""
    return person is not None and any(route in AUTHORITIES for route in loads(person["routes"]))


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

    def claim(self, claim: Claim, known: int | None = None, browser_person: int | None = None) -> Row | None:
        """The person this claim names (created, extended or merged as needed); None without a strong id.
        `known`: the person the browser already is, who takes ids nobody holds (a signed-in user
        giving their email in a form) instead of a new person being made. `browser_person`: who
        the claiming browser belongs to, if anyone (a verified person's own browser naming them
        again is no conflict)."""
        wanted = claim.strong_ids
        if not wanted:
            return None
        found = self._holders(claim)
        if not claim.authority:
            guarded = sorted({n for n in found.values() if verified(self._row(n))})
            if guarded:
                if browser_person is not None and set(found.values()) == {browser_person}:  # their own browser:
                    self._add_ids(browser_person, claim, found)  # it may add ids nobody holds, never traits
                    return self._row(browser_person)
                return self._conflicting(claim, found, guarded[0])
        by_user, by_email = found.get("user_id"), found.get("email")
        if by_email and claim.user_id and by_user != by_email and self._user_ids(by_email):
            # the email's person has user ids, and not this one: another account sharing the email
            by_email = None
        target = by_user or by_email
        if by_user and by_email and by_user != by_email:
            if claim.authority:
                self.merge(by_email, by_user)
            else:  # a keyless claim never merges two people: the email stays with its person
                by_email = None
        holder = found.get("email")
        if holder is not None and holder != target and holder not in self.merged:
            claim = replace(claim, email=None)  # another person's email: not this one's in any way
        if target is None:
            target = known if known is not None and claim.user_id is None else self._create(claim)
        if not claim.authority and verified(self._row(target)):
            return self._row(target)  # the browser's verified person: a keyless claim adds nothing
        self._add_ids(target, claim, found)
        self._update(target, claim)
        return self._row(target)

    def _holders(self, claim: Claim) -> dict[str, int]:
        """The people holding the claim's ids: kind -> person num."""
        found: dict[str, int] = {}
        for kind, value in claim.strong_ids:
            row = self.tx.one(
                "SELECT person_num FROM person_ids WHERE site_num = ? AND kind = ? AND value = ?",
                (claim.site_num, kind, value),
            )
            if row is not None:
                found[kind] = row["person_num"]
        return found

    def _row(self, num: int | None) -> Row | None:
        return self.tx.one("SELECT * FROM people WHERE num = ?", (num,)) if num is not None else None

    def _add_ids(self, target: int, claim: Claim, found: dict[str, int]) -> None:
        for kind, value in claim.strong_ids:
            if kind not in found:  # an id someone else holds stays theirs
                self.tx.execute(
                    "INSERT INTO person_ids (site_num, kind, value, person_num) VALUES (?, ?, ?, ?)",
                    (claim.site_num, kind, value, target),
                )

    def _conflicting(self, claim: Claim, found: dict[str, int], of: int) -> Row | None:
        """A keyless claim naming a verified person's ids: a person of its own, holding the ids
        nobody holds, `conflict_of` the verified one; the same claim finds it again."""
        claimed = "|".join(f"{kind}:{value}" for kind, value in claim.strong_ids)
        row = self.tx.one(
            "SELECT num FROM people WHERE site_num = ? AND conflict_of = ? AND claimed = ?",
            (claim.site_num, of, claimed),
        )
        free = replace(
            claim,
            user_id=None if "user_id" in found else claim.user_id,
            email=None if "email" in found else claim.email,
        )
        if row is None:
            num = self._create(free)
            self.tx.execute("UPDATE people SET conflict_of = ?, claimed = ? WHERE num = ?", (of, claimed, num))
            self._add_ids(num, free, {})
        else:
            num = row["num"]
        self._update(num, free)
        return self._row(num)

    def confirmed(self, num: int, claim: Claim) -> Row | None:
        """`num` named by a claim without ids (an email link's token): its route is recorded."""
        self._update(num, claim)
        return self._row(num)

    def may_link(self, browser_person: int | None, person: Row, claim: Claim) -> bool:
        """Whether this claim may make a browser that is `browser_person`'s `person`'s: a keyless
        claim never moves a browser away from a verified person."""
        if claim.authority or browser_person is None or browser_person == person["num"]:
            return True
        return not verified(self._row(browser_person))

    def _create(self, claim: Claim) -> int:
        [num] = self.tx.allocate("people", 1)
        self.tx.execute(
            "INSERT INTO people (num, id, site_num, created_at, identified_at, user_id, email, sources, routes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                num,
                ids.person_id(),
                claim.site_num,
                claim.ts,
                claim.ts,
                claim.user_id,
                claim.email,
                dumps({kind: claim.source for kind, _ in claim.strong_ids}),
                dumps({claim.source: claim.ts}),
            ),
        )
        return num

    def _update(self, num: int, claim: Claim) -> None:
        """Traits from identify calls and imports replace what is there; forms, links and payments
        only fill what is missing. Each field written records its source; the route is recorded."""
        person = self._row(num)
        assert person is not None
        overwrite = claim.source in ("identify", "api", "import")
        sources = loads(person["sources"])
        routes = loads(person["routes"])
        routes.setdefault(claim.source, claim.ts)
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
            f"UPDATE people SET identified_at = ?, metadata = ?, sources = ?, routes = ?{assignments} WHERE num = ?",
            (
                max(claim.ts, person["identified_at"]),
                dumps(metadata),
                dumps(sources),
                dumps(routes),
                *changes.values(),
                num,
            ),
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
        routes = {**loads(gone["routes"]), **loads(kept["routes"])}
        for route, ts in loads(gone["routes"]).items():
            routes[route] = min(ts, routes[route])
        assignments = "".join(f", {k} = ?" for k in fill)
        self.tx.execute(
            f"UPDATE people SET identified_at = ?, created_at = ?, metadata = ?, sources = ?, routes = ?, "
            f"conflict_of = NULL, claimed = NULL{assignments} WHERE num = ?",
            (
                max(gone["identified_at"], kept["identified_at"]),
                min(gone["created_at"], kept["created_at"]),
                dumps(metadata),
                dumps(sources),
                dumps(routes),
                *fill.values(),
                into,
            ),
        )
        self.tx.execute("UPDATE people SET conflict_of = ? WHERE conflict_of = ?", (into, source))
        self.tx.execute("UPDATE merged_people SET into_num = ? WHERE into_num = ?", (into, source))
        self.tx.execute("INSERT INTO merged_people (id, into_num) VALUES (?, ?)", (gone["id"], into))
        self.tx.execute("DELETE FROM people WHERE num = ?", (source,))
        self.merged[source] = into

    def unlink(self, person: int, browsers: list[int]) -> int:
        """The owner says these browsers (a visitor and the browsers matched to it) are not
        `person`'s: they and their visits leave the person, and so do the payments made on them
        unless the payment's email is the person's. The person keeps their ids and the rest of
        their visits; a later identification of these browsers links them again. Answers how many
        visits left the person."""
        group = ",".join("?" * len(browsers))
        left = self.tx.one(
            f"SELECT COUNT(*) AS n FROM sessions WHERE person_num = ? AND visitor_num IN ({group})", (person, *browsers)
        )
        self.tx.execute(
            f"UPDATE visitors SET person_num = NULL WHERE person_num = ? AND num IN ({group})", (person, *browsers)
        )
        self.tx.execute(
            f"UPDATE sessions SET person_num = NULL, identified = 0 WHERE person_num = ? AND visitor_num IN ({group})",
            (person, *browsers),
        )
        self.tx.execute(
            f"UPDATE payments SET person_num = NULL WHERE person_num = ? AND visitor_num IN ({group}) "
            "AND (email IS NULL OR LOWER(email) NOT IN "
            "(SELECT value FROM person_ids WHERE person_num = ? AND kind = 'email'))",
            (person, *browsers, person),
        )
        return int(left["n"]) if left else 0

    def link(self, browser: int, person: int) -> int | None:
        """Links the browser `browser` (a visitor that is not an alias: a presumed browser confirms
        itself first) to `person`; its sessions without a person become the person's. Answers the
        person it was linked to before (None if anonymous)."""
        row = self.tx.one("SELECT person_num FROM visitors WHERE num = ?", (browser,))
        before = row["person_num"] if row else None
        if before != person:
            self.tx.execute("UPDATE visitors SET person_num = ? WHERE num = ?", (person, browser))
        self.tx.execute(
            "UPDATE sessions SET person_num = ? WHERE person_num IS NULL AND visitor_num = ?", (person, browser)
        )
        # the latest visit, if its person was only presumed (a shared computer's next user), is theirs
        self.tx.execute(
            "UPDATE sessions SET person_num = ?, identified = 1 WHERE identified = 0 AND num = "
            "(SELECT MAX(num) FROM sessions WHERE visitor_num = ?)",
            (person, browser),
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


def id_locks(tx: Tx, site_num: int, nums: list[int]) -> list[str]:
    """The locks writers take for these people's ids (`lock_keys`), so a merge waits for them."""
    rows = tx.all(f"SELECT kind, value FROM person_ids WHERE person_num IN ({','.join('?' * len(nums))})", nums)
    return lock_keys([Claim(site_num, 0, "merge", **{r["kind"]: r["value"]}) for r in rows])


def split(tx: Tx, site: Site, person: Row, visitor_id: str) -> Row | None:
    """Takes the browser `visitor_id` (with the browsers matched to it) away from `person`; None
    when no such browser of the site belongs to them. Answers the person as they are now."""
    browser = tx.one("SELECT * FROM visitors WHERE id = ? AND site_id = ?", (visitor_id.lower()[:64], site.id))
    if browser is None:
        return None
    root, nums = visitor_group(tx, browser)
    if root["person_num"] != person["num"]:
        return None
    tx.lock(id_locks(tx, site.num, [person["num"]]))
    People(tx).unlink(person["num"], nums)
    return tx.one("SELECT * FROM people WHERE num = ?", (person["num"],))
