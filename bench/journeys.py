"""Stitching benchmark: a simulated population replayed through the real collect endpoint, scored
against its ground truth.

    python bench/journeys.py [--people 1000] [--backends sqlite,postgres] [--seed 3]

The population (seeded, so every run replays the same):
- 60% sign in (a user id, often an email too) on some of their 1-3 devices, some after a junk
  identify call first ("undefined", "null", "anonymous"...), and give the same email in a form
  on some devices they never sign in on;
- 10% fill a form with their email (form capture on) on one device;
- 15% are imported contacts who arrive through their email link on one or two devices, some
  filling a form later, some signing up (a new user id, the same email) on another device;
- 15% never identify.
Pairs of signed-in people share a computer (5% of them): each signs in during each of their
visits there. Every device visits 1-4 times, an hour or more apart, 1-5 pages each, over 30
days of the server's clock (a ManualClock the script moves); sign-ins and forms happen in a
random visit after the landing page. These send no device signals: they measure stitching by
first-party identity.

Households and offices ([T2]): groups of 2-4 (households) and 5-8 (offices) people on one
network, each with their own browser of one device model (the same device signals for the whole
group), half of them signing in; a third of them clear their storage at some point (a new
browser with the same signals and no id, identified again only if they sign in again). Every
such browser sends device signals, so device matching is at work: a matched browser is only a
presumption and must never be attributed to anyone.

Ground truth: every event knows its person. An event is identifiable when its person identified
(signed in, filled the form, or followed their link) on that device; on a shared computer, in
that visit. Scores, pairwise over events:
- precision: of the pairs the store puts in one person, the share that are one true person
  (a 100% target: no two people merged, no anonymous event given to someone);
- recall: of the pairs of identifiable events of one true person, the share the store joined.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import AppServer, add_site  # noqa: E402

from bench.ingest import USER_AGENTS, drop_database, fresh_database  # noqa: E402
from footfall import accounts  # noqa: E402

AGENTS = USER_AGENTS  # real browsers' user agents, as the ingest benchmark sends
PAGES = ["/", "/pricing", "/docs", "/blog", "/about", "/features", "/changelog", "/contact", "/login", "/signup"]
JUNK = ["undefined", "null", "anonymous", "0", "[object Object]"]
DAY_MS = 86_400_000


@dataclass
class Person:
    key: str
    kind: str  # signin | form | link | never
    user_id: str | None = None
    email: str | None = None
    junk_first: bool = False
    token: str | None = None


@dataclass
class Device:
    key: str
    agent: str
    ip: str
    users: list[Person]
    visitor_id: str | None = None
    shared: bool = False
    signature: str | None = None  # device signals (households and offices share one per group)


@dataclass
class Visit:
    device: Device
    person: Person
    start: int
    pages: list[str]
    identify_at: int | None  # index in pages after which the person identifies, if this visit
    how: str | None = None  # signin | form | link


@dataclass
class Truth:
    person: str
    identifiable: bool
    grouped: bool = False  # a household's or an office's event


@dataclass
class Population:
    people: list[Person] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)


def add_groups(pop: Population, rng: random.Random, households: int, offices: int) -> None:
    """People on one network with the same device model (see the module's docstring)."""
    for g in range(households + offices):
        size = rng.randint(2, 4) if g < households else rng.randint(5, 8)
        signature, agent, ip = f"{rng.getrandbits(32):08x}", rng.choice(AGENTS), _ip(rng)
        for m in range(size):
            p = Person(f"g{g}m{m}", "signin" if rng.random() < 0.5 else "never")
            if p.kind == "signin":
                p.user_id, p.email = f"user-g{g}m{m}", f"g{g}m{m}@family{g}.example.com"
            pop.people.append(p)
            browsers = [Device(f"{p.key}-d0", agent, ip, [p], signature=signature)]
            if rng.random() < 1 / 3:  # cleared its storage at some point: a new browser, same signals
                browsers.append(Device(f"{p.key}-d1", agent, ip, [p], signature=signature))
            start = rng.randrange(0, 10 * DAY_MS)
            for k, d in enumerate(browsers):
                pop.devices.append(d)
                mine = []
                for _ in range(rng.randint(1, 3)):
                    mine.append(Visit(d, p, start, [rng.choice(PAGES) for _ in range(rng.randint(1, 4))], None))
                    start += rng.randint(3_600_000, 2 * DAY_MS)
                if p.kind == "signin" and (k == 0 or rng.random() < 0.5):
                    chosen = rng.choice(mine)
                    chosen.identify_at, chosen.how = rng.randrange(len(chosen.pages)), "signin"
                pop.visits += mine
    pop.visits.sort(key=lambda v: v.start)


def make_population(n: int, seed: int) -> Population:
    rng = random.Random(seed)
    pop = Population()
    for i in range(n):
        roll = rng.random()
        kind = "signin" if roll < 0.60 else "form" if roll < 0.70 else "link" if roll < 0.85 else "never"
        p = Person(f"p{i}", kind)
        if kind == "signin":
            p.user_id = f"user-{i}"
            p.email = f"person{i}@company{i % 97}.com" if rng.random() < 0.7 else None
            p.junk_first = rng.random() < 0.1
        elif kind in ("form", "link"):
            p.email = f"person{i}@{rng.choice(['gmail.com', 'acme.com', 'globex.io', 'example.org'])}".replace(
                "person", f"p{i}-"
            )
        pop.people.append(p)
    signers = [p for p in pop.people if p.kind == "signin"]
    rng.shuffle(signers)
    sharing = signers[: int(len(signers) * 0.05) // 2 * 2]
    for a, b in zip(sharing[::2], sharing[1::2], strict=True):
        pop.devices.append(Device(f"shared-{a.key}-{b.key}", rng.choice(AGENTS), _ip(rng), [a, b], shared=True))
    for p in pop.people:
        for j in range(rng.choice([1, 1, 2, 2, 3]) if p.kind != "form" else rng.choice([1, 2])):
            pop.devices.append(Device(f"{p.key}-d{j}", rng.choice(AGENTS), _ip(rng), [p]))
    for d in pop.devices:
        start = rng.randrange(0, 20 * DAY_MS)
        count = rng.randint(1, 4) if not d.shared else rng.randint(2, 4)
        mine: list[Visit] = []
        for k in range(count):
            person = d.users[k % len(d.users)]
            pages = [rng.choice(PAGES) for _ in range(rng.randint(1, 5))]
            mine.append(Visit(d, person, start, pages, None))
            start += rng.randint(3_600_000, 3 * DAY_MS)  # an hour or more apart: separate visits
        _plan_identification(rng, d, mine)
        pop.visits += mine
    pop.visits.sort(key=lambda v: v.start)
    return pop


def _ip(rng: random.Random) -> str:
    return f"81.2.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _plan_identification(rng: random.Random, d: Device, visits: list[Visit]) -> None:
    """Which visit of the device identifies its person, and how."""
    if d.shared:  # each signs in during each of their visits
        for v in visits:
            v.identify_at, v.how = rng.randrange(len(v.pages)), "signin"
        return
    person = d.users[0]
    if person.kind == "never":
        return
    chosen = rng.choice(visits)
    at = rng.randrange(len(chosen.pages))
    if person.kind == "signin" and rng.random() < 0.75:
        chosen.identify_at, chosen.how = at, "signin"
    elif person.kind == "signin" and person.email and rng.random() < 0.5:
        chosen.identify_at, chosen.how = at, "form"  # the same email in a form, on a device never signed in
    elif person.kind == "form" and d.key.endswith("-d0"):
        chosen.identify_at, chosen.how = at, "form"
    elif person.kind == "link" and (d.key.endswith("-d0") or rng.random() < 0.5):
        visits[0].identify_at, visits[0].how = 0, "link"  # the link is how this device arrives
        if len(visits) > 1 and rng.random() < 0.3:
            later = rng.choice(visits[1:])
            later.identify_at, later.how = rng.randrange(len(later.pages)), "form"
    elif person.kind == "link" and rng.random() < 0.5:
        person.user_id = person.user_id or f"user-{person.key}"  # signs up later, with the same email
        chosen.identify_at, chosen.how = at, "signin"


class Replayer:
    def __init__(self, server: AppServer, site: str) -> None:
        self.server = server
        self.site = site
        self.client = httpx.Client(base_url=server.url, timeout=30)
        self.truth: dict[str, Truth] = {}
        self.posted = 0

    def send(self, d: Device, person: Person, identifiable: bool, href: str, **fields: Any) -> None:
        body = {"websiteId": self.site, "href": href, "type": "pageview", **fields}
        if d.visitor_id:
            body["visitorId"] = d.visitor_id
        if d.signature:  # one device model: the same canvas, WebGL, screen... for the whole group
            body["device"] = {"h": d.signature, "s": d.signature[::-1], "c": {"model": d.signature}}
        response = self.client.post("/api/events", json=body, headers={"user-agent": d.agent, "x-forwarded-for": d.ip})
        if response.status_code != 202 or "dropped" in response.json():
            raise RuntimeError(f"event refused: {response.status_code} {response.text}")
        answer = response.json()
        d.visitor_id = answer.get("browserId") or answer["visitorId"]
        self.truth[answer["requestId"]] = Truth(person.key, identifiable, d.signature is not None)
        self.posted += 1

    def replay(self, pop: Population, identified: set[tuple[str, str]]) -> None:
        origin = self.server.clock.now_ms()
        for v in pop.visits:
            now = self.server.clock.now_ms()
            if origin + v.start > now:
                self.server.clock.advance(ms=origin + v.start - now)
            d, p = v.device, v.person
            ok = (d.key, p.key) in identified and (not d.shared or v.identify_at is not None)
            for i, page in enumerate(v.pages):
                href = f"https://example.com{page}"
                if i == 0 and v.how == "link":
                    href += f"?ff_t={p.token}"
                self.send(d, p, ok, href)
                self.server.clock.advance(seconds=10)
                if v.identify_at == i and v.how == "signin":
                    if p.junk_first:
                        junk = JUNK[len(p.key) % len(JUNK)]
                        self.send(d, p, ok, href, type="identify", extraData={"user_id": junk})
                    traits = {"user_id": p.user_id} | ({"email": p.email} if p.email else {})
                    self.send(d, p, ok, href, type="identify", extraData=traits)
                elif v.identify_at == i and v.how == "form":
                    self.send(d, p, ok, href, type="form", extraData={"email": str(p.email), "first_name": p.key})
                self.server.clock.advance(seconds=10)


def identifiable_pairs(pop: Population) -> set[tuple[str, str]]:
    """(device, person) pairs where the person identifies on the device at some point."""
    return {(v.device.key, v.person.key) for v in pop.visits if v.how is not None}


def score(server: AppServer, truth: dict[str, Truth]) -> dict[str, Any]:
    rows = server.store.read(
        lambda tx: tx.all("SELECT e.request_id, s.person_num FROM events e JOIN sessions s ON s.num = e.session_num")
    )
    stored = {r["request_id"]: r["person_num"] for r in rows}
    together: Counter[tuple[int, str]] = Counter()  # (stored person, true person) -> events
    clusters: Counter[int] = Counter()
    for request_id, t in truth.items():
        person = stored[request_id]
        if person is not None:
            together[(person, t.person)] += 1
            clusters[person] += 1
    same_stored = sum(comb(n, 2) for n in clusters.values())
    both = sum(comb(n, 2) for n in together.values())
    identifiable = Counter(t.person for t in truth.values() if t.identifiable)
    joined: Counter[tuple[int | None, str]] = Counter((stored[r], t.person) for r, t in truth.items() if t.identifiable)
    same_true = sum(comb(n, 2) for n in identifiable.values())
    recall_both = sum(comb(n, 2) for (p, _), n in joined.items() if p is not None)
    members: dict[int, set[str]] = {}
    for sp, tp in together:
        members.setdefault(sp, set()).add(tp)
    main = {sp: max((n, tp) for (s, tp), n in together.items() if s == sp)[1] for sp in members}
    people_rows = server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM people"))
    user_ids = {r["num"]: r["user_id"] for r in server.store.read(lambda tx: tx.all("SELECT num, user_id FROM people"))}
    grouped = [(stored[r], t) for r, t in truth.items() if t.grouped]
    return {
        "group_events": len(grouped),
        "group_wrong": sum(p is not None and user_ids.get(p) != f"user-{t.person}" for p, t in grouped),
        "group_attributed": sum(p is not None for p, _ in grouped),
        "group_identifiable": sum(t.identifiable for _, t in grouped),
        "precision": both / same_stored if same_stored else 1.0,
        "recall": recall_both / same_true if same_true else 1.0,
        "events": len(truth),
        "identifiable_events": sum(identifiable.values()),
        "attributed_events": sum(clusters.values()),
        "wrongly_attributed": sum(n for (sp, tp), n in together.items() if main[sp] != tp),
        "people_stored": people_rows["n"] if people_rows else 0,
        "people_identifiable": len(identifiable),
        "mixed_people": sum(len(m) > 1 for m in members.values()),
    }


LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)  # the replayer's X-Forwarded-For is believed


def run_backend(backend: str, pop: Population, work: Path, links_shared: bool = False) -> dict[str, Any]:
    settings = fresh_database(backend, work, trusted_proxies=LOOPBACK)
    try:
        with AppServer(settings) as server:
            site, key = add_site(server.store, "example.com", server.clock.now_ms(), scopes=("identify:write",))
            changes = {"form_capture": True, "link_tokens_shared": links_shared}
            server.store.write(lambda tx: accounts.update_site_settings(tx, site, changes))
            contacts = [{"email": p.email, "first_name": p.key} for p in pop.people if p.kind == "link"]
            imported = httpx.post(
                f"{server.url}/api/v1/contacts/import",
                json={"contacts": contacts},
                headers={"authorization": f"Bearer {key}"},
                timeout=60,
            ).json()["data"]
            tokens = {link["email"]: link["token"] for link in imported["links"]}
            for p in pop.people:
                if p.kind == "link":
                    p.token = tokens[str(p.email)]
            replayer = Replayer(server, site)
            started = time.monotonic()
            replayer.replay(pop, identifiable_pairs(pop))
            elapsed = time.monotonic() - started
            result = score(server, replayer.truth)
            result["seconds"] = elapsed
            result["events_per_second"] = replayer.posted / elapsed
            return result
    finally:
        drop_database(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--households", type=int, default=40)
    parser.add_argument("--offices", type=int, default=8)
    parser.add_argument("--links-shared", action="store_true", help="email links name every browser they open in")
    args = parser.parse_args()
    pop = make_population(args.people, args.seed)
    add_groups(pop, random.Random(args.seed + 1), args.households, args.offices)
    kinds = Counter(p.kind for p in pop.people)
    shared = sum(d.shared for d in pop.devices)
    print(
        f"\n{len(pop.people)} people ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), "
        f"{len(pop.devices)} devices ({shared} shared computers), {len(pop.visits)} visits"
    )
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for backend in args.backends.split(","):
            results[backend] = run_backend(backend, pop, Path(work), args.links_shared)
            for p in pop.people:  # the next store starts from nothing
                p.token = None
            for d in pop.devices:
                d.visitor_id = None
    print("\n| store | events | identifiable | precision | recall | people stored / identifiable | mixed | s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend, r in results.items():
        print(
            f"| {backend} | {r['events']:,} | {r['identifiable_events']:,} | {100 * r['precision']:.2f}% | "
            f"{100 * r['recall']:.2f}% | {r['people_stored']:,} / {r['people_identifiable']:,} | "
            f"{r['mixed_people']} | {r['seconds']:.0f} |"
        )
    print("\ntargets: precision 100%, recall >= 99% of what is identifiable")
    print("\n| store | household and office events | identifiable | attributed | to the wrong person |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for backend, r in results.items():
        print(f"| {backend} | {r['group_events']:,} | {r['group_identifiable']:,} | {r['group_attributed']:,} | "
              f"{r['group_wrong']} |")  # fmt: skip


if __name__ == "__main__":
    main()
