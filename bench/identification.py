"""Identification benchmark: is it the same browser? footfall against open-source FingerprintJS.

    python bench/identification.py [--trials 50]

Starts `python -m footfall serve` (SQLite) with one site and serves, from another loopback port,
a page carrying both footfall's tag and FingerprintJS (npm `@fingerprintjs/fingerprintjs`,
installed in bench/ by `npm ci`, loaded with `monitoring: false`). Every visit asks both for an
id: `footfall('device')` and FingerprintJS's `get()`. Chromium is the system's; every page is
given an emulated device through CDP (user agent and platform, locale, timezone, screen size
and pixel ratio, hardware concurrency), one profile per trial, all different.

(a) cleared storage: a browser profile visits; its cookies and all storage of the page's
    origin are cleared; it visits again in a new tab. Same id?
(b) private window: a Chromium with a profile on disk visits; a fresh off-the-record context
    of that same Chromium (what Incognito is) visits. Same id?
(c) distinct devices: one fresh context per emulated profile visits once. Is each id unique?
(d) two profiles, identical hardware: two Chromiums with their own profiles (own cookies) and
    the same emulated device visit in turn, A, B, A, B. Did they end up apart? Also counted:
    B's first visit taken for A (it looks exactly like (a)), and B's visits left in A's
    history as Fingerprint's Server API reports it after the last visit.
(e) a population ([T2]): 30 browser contexts emulating one device (user agent, screen, timezone,
    locale, hardware) on one IP, each with its own cookies; ten identify as ten different people;
    all visit in shuffled order for four rounds, and six of them (three of the people) clear their
    storage between rounds. A site's Floqer source of people is synced into a webhook workflow
    whose receiver runs on 127.0.0.1. Counted: visits attributed to the wrong person (a person who
    is not the context's, or anyone for an anonymous context), deliveries naming the wrong person
    (a delivery whose page was another context's), and, what precision costs, the visits of people
    after they cleared their storage that were attributed to them (recovery).

footfall answers a matched browser with its own id (it is never handed the matched visitor's):
"same id" in (a) and (b) means found, presumed to be that visitor, which Fingerprint's Server API
says (`GET /visitors/{id}` of the new id answers the first visitor's id).

Every request comes from 127.0.0.1, so the network context is the same for all trials: the
hardest case for (d) and the easiest for (a) and (b).
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM_FLAGS, PageServer  # noqa: E402
from tests.support.receiver import Receiver  # noqa: E402
from tests.support.servers import ServerProcess, add_site, free_port  # noqa: E402

from footfall import accounts  # noqa: E402
from footfall.identity.matching import BASE  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402
from footfall.store.base import Store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FPJS_DIR = ROOT / "bench" / "node_modules" / "@fingerprintjs" / "fingerprintjs"
FPJS = FPJS_DIR / "dist" / "fp.umd.min.js"

TIMEZONES = [
    "Europe/London",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Europe/Madrid",
]
LOCALES = ["en-GB", "en-US", "de-DE", "fr-FR", "ja-JP", "es-ES", "pt-BR", "it-IT", "nl-NL", "pl-PL"]
SCREENS = [(1920, 1080, 1), (1440, 900, 2), (1536, 864, 1.25), (2560, 1440, 1), (1366, 768, 1), (1280, 800, 2)]
AGENTS = [
    (
        "Win32",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
    ),
    (
        "MacIntel",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
    ),
    (
        "Linux x86_64",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    ),
]
CORES = [2, 4, 6, 8, 12, 16]


@dataclass(frozen=True)
class Device:
    timezone: str
    locale: str
    screen: tuple[int, int, float]
    agent: tuple[str, str]
    cores: int


def devices(n: int, seed: int = 11) -> list[Device]:
    """`n` different emulated devices."""
    rng, out, seen = random.Random(seed), [], set()
    while len(out) < n:
        d = Device(
            rng.choice(TIMEZONES), rng.choice(LOCALES), rng.choice(SCREENS), rng.choice(AGENTS), rng.choice(CORES)
        )
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def emulate(page: Page, device: Device) -> None:
    """Applied to the page before it loads, through CDP."""
    cdp = page.context.new_cdp_session(page)
    width, height, ratio = device.screen
    platform, agent = device.agent
    cdp.send(
        "Emulation.setUserAgentOverride", {"userAgent": agent, "platform": platform, "acceptLanguage": device.locale}
    )
    cdp.send("Emulation.setLocaleOverride", {"locale": device.locale})
    cdp.send("Emulation.setTimezoneOverride", {"timezoneId": device.timezone})
    cdp.send(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": height - 100,
            "deviceScaleFactor": ratio,
            "mobile": False,
            "screenWidth": width,
            "screenHeight": height,
        },
    )
    cdp.send("Emulation.setHardwareConcurrencyOverride", {"hardwareConcurrency": device.cores})


ASK_BOTH = """async () => {
  const ff = await window.footfall("device");
  const fp = await (await FingerprintJS.load({ monitoring: false })).get();
  return { footfall: ff.visitorId, found: ff.visitorFound, confidence: ff.confidence.score,
           requestId: ff.requestId, fingerprintjs: fp.visitorId };
}"""


def visit(context: BrowserContext, url: str, device: Device) -> dict[str, Any]:
    page = context.new_page()
    emulate(page, device)
    page.goto(url)
    page.wait_for_function("window.footfall && window.footfall.getVisitorId && window.FingerprintJS")
    answer: dict[str, Any] = page.evaluate(ASK_BOTH)
    page.close()
    return answer


def clear_storage(context: BrowserContext, origin: str) -> None:
    """What "clear cookies and site data" does: cookies, then every storage of the origin."""
    context.clear_cookies()
    page = context.new_page()
    page.context.new_cdp_session(page).send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    page.close()


@contextmanager
def persistent(pw: Playwright) -> Iterator[BrowserContext]:
    """A Chromium with a profile on disk."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield context
        finally:
            context.close()


@contextmanager
def chromium_over_cdp(pw: Playwright) -> Iterator[Browser]:
    """A Chromium with a profile on disk, started by hand and reached over CDP, so that one browser
    has both its persistent default context and off-the-record ones (Playwright's launch gives one)."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        port = free_port()
        proc = subprocess.Popen(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--remote-debugging-port={port}",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            try:
                yield browser
            finally:
                browser.close()
        finally:
            proc.kill()
            proc.wait()


@dataclass
class Tally:
    footfall: int = 0
    fingerprintjs: int = 0
    trials: int = 0
    notes: dict[str, int] = field(default_factory=dict)

    def add(self, footfall: bool, fingerprintjs: bool) -> None:
        self.trials += 1
        self.footfall += footfall
        self.fingerprintjs += fingerprintjs

    def note(self, name: str, hit: bool) -> None:
        self.notes[name] = self.notes.get(name, 0) + hit


def same_visitor(api: Callable[[str], str | None], first: dict[str, Any], later: dict[str, Any]) -> bool:
    """footfall counts `later` as `first`'s visitor: the same id, or a browser presumed to be it."""
    return bool(
        later["footfall"] == first["footfall"] or (later["found"] and api(later["footfall"]) == first["footfall"])
    )


def cleared_storage(
    pw: Playwright, url: str, origin: str, trials: list[Device], api: Callable[[str], str | None]
) -> Tally:
    tally = Tally()
    for device in trials:
        with persistent(pw) as context:
            before = visit(context, url, device)
            clear_storage(context, origin)
            after = visit(context, url, device)
        tally.add(same_visitor(api, before, after), after["fingerprintjs"] == before["fingerprintjs"])
        tally.note("found", after["found"])
        tally.note("matched on the core signature (canvas or audio differed)", after["confidence"] < BASE)
    return tally


def private_window(pw: Playwright, url: str, trials: list[Device], api: Callable[[str], str | None]) -> Tally:
    tally = Tally()
    for device in trials:
        with chromium_over_cdp(pw) as browser:
            normal = visit(browser.contexts[0], url, device)
            private = browser.new_context()
            incognito = visit(private, url, device)
            private.close()
        tally.add(same_visitor(api, normal, incognito), incognito["fingerprintjs"] == normal["fingerprintjs"])
        tally.note("matched on the core signature (canvas or audio differed)", incognito["confidence"] < BASE)
    return tally


def distinct_devices(pw: Playwright, url: str, trials: list[Device]) -> Tally:
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    answers = []
    for device in trials:
        context = browser.new_context()
        answers.append(visit(context, url, device))
        context.close()
    browser.close()
    tally = Tally()
    for answer in answers:
        unique: Callable[[str], bool] = lambda k, a=answer: sum(o[k] == a[k] for o in answers) == 1  # noqa: E731
        tally.add(unique("footfall"), unique("fingerprintjs"))
    return tally


def two_profiles(pw: Playwright, url: str, trials: list[Device], reader: FingerprintReader) -> Tally:
    tally = Tally()
    for device in trials:
        with persistent(pw) as a, persistent(pw) as b:
            _, b1 = visit(a, url, device), visit(b, url, device)
            a2, b2 = visit(a, url, device), visit(b, url, device)
        apart = reader.visitor(a2["footfall"]) != reader.visitor(b2["footfall"])
        tally.add(apart, a2["fingerprintjs"] != b2["fingerprintjs"])
        tally.note("first contact presumed A (at the time)", bool(b1["found"]))
        a_history = reader.request_ids(a2["footfall"])
        tally.note("B's visits left in A's history", bool(a_history & {b1["requestId"], b2["requestId"]}))
    return tally


@dataclass
class FingerprintReader:
    """Fingerprint's Server API of the bench's server: which visitor an id counts as, its visits."""

    server_url: str
    key: str

    def _body(self, visitor_id: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.server_url}/visitors/{visitor_id}", headers={"Auth-API-Key": self.key}, timeout=10)
        return dict(answer.json()) if answer.status_code == 200 else {}

    def visitor(self, visitor_id: str) -> str | None:
        return self._body(visitor_id).get("visitorId")

    def request_ids(self, visitor_id: str) -> set[str]:
        return {v["requestId"] for v in self._body(visitor_id).get("visits", [])}


PEOPLE, CONTEXTS, ROUNDS = 10, 30, 4
CLEARERS = frozenset({0, 3, 6, 12, 18, 24})  # three of the people and three anonymous contexts
IDENTIFY = "(i) => window.footfall('identify', {user_id: 'person-' + i, email: 'person' + i + '@acme.com'})"


@dataclass
class Population:
    visits: int = 0
    wrong: int = 0  # attributed to someone who is not the context's person (or anyone, when anonymous)
    right: int = 0
    after_clearing: int = 0  # visits of people after they cleared their storage
    recovered: int = 0  # ...attributed to them all the same
    deliveries: int = 0
    wrong_deliveries: int = 0


def population(pw: Playwright, web: PageServer, device: Device, store: Store, receiver: Receiver) -> Population:
    """Case (e): see the module's docstring."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    contexts = [browser.new_context() for _ in range(CONTEXTS)]
    rng = random.Random(5)
    asked: list[tuple[int, int, str]] = []  # (context, round, request id)
    for r in range(ROUNDS):
        order = list(range(CONTEXTS))
        rng.shuffle(order)
        for i in order:
            if r > 0 and i in CLEARERS:
                clear_storage(contexts[i], web.url)
            path = f"/c{i}/r{r}"
            web.pages[path] = web.pages["/"]
            page = contexts[i].new_page()
            emulate(page, device)
            page.goto(web.url + path)
            page.wait_for_function("window.footfall && window.footfall.getVisitorId && window.FingerprintJS")
            asked.append((i, r, page.evaluate("async () => (await window.footfall('device')).requestId")))
            if r == 0 and i < PEOPLE:
                page.evaluate(IDENTIFY, i)
                page.wait_for_timeout(300)  # the identify event is on its way
            page.close()
    browser.close()
    receiver.wait(PEOPLE, timeout=60)
    who = {
        row["request_id"]: row["user_id"]
        for row in store.read(lambda tx: tx.all(
            "SELECT e.request_id, p.user_id FROM events e JOIN sessions s ON s.num = e.session_num "
            "LEFT JOIN people p ON p.num = s.person_num WHERE e.type = 'identification'"
        ))
    }  # fmt: skip
    out = Population()
    cleared: set[int] = set()
    for i, r, request_id in asked:
        if r > 0 and i in CLEARERS:
            cleared.add(i)
        truth = f"person-{i}" if i < PEOPLE else None
        said = who.get(request_id)
        out.visits += 1
        out.wrong += said is not None and said != truth
        out.right += said is not None and said == truth
        if truth and i in cleared:
            out.after_clearing += 1
            out.recovered += said == truth
    for got in receiver.unique().values():
        inputs = got.json()["inputs"]
        out.deliveries += 1
        page_context = (inputs.get("page") or "").split("/c", 1)[-1].split("/", 1)[0]
        out.wrong_deliveries += inputs.get("email") != f"person{page_context}@acme.com"
    return out


def percent(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}% ({n}/{d})"


@contextmanager
def footfall_server(work: str, domain: str = "127.0.0.1") -> Iterator[tuple[ServerProcess, str, str, str, Store]]:
    """footfall on SQLite in `work`: (server, site id, a Fingerprint key, an account key, its store).
    The pages are served from 127.0.0.1 whatever the site's domain."""
    store = open_store(Settings.from_env({}, data_dir=work))
    now = int(time.time() * 1000)
    site, _ = add_site(store, domain, now, allowed_hostnames=("127.0.0.1",))

    def make_keys(tx: Any) -> tuple[str, str]:
        account = accounts.first_account(tx)["id"]
        fingerprint = accounts.create_key(tx, account, ["fingerprint:read"], now, site_id=site)[0]
        return fingerprint, accounts.create_key(tx, account, ["*"], now)[0]

    fingerprint, admin = store.write(make_keys)
    env = {"FOOTFALL_DATA_DIR": work, "FOOTFALL_FINGERPRINT_RATE": "1000", "FOOTFALL_FINGERPRINT_BURST": "1000",
           "FOOTFALL_DELIVERY_INTERVAL_SECONDS": "0.2", "FOOTFALL_SCORING_INTERVAL_SECONDS": "0",
           "FOOTFALL_OUTBOUND_ALLOW": "127.0.0.0/8"}  # fmt: skip
    server = ServerProcess(env, log=Path(work) / "server.log").start()
    try:
        yield server, site, fingerprint, admin, store
    finally:
        server.stop()
        store.close()


def tag_page(server: ServerProcess, site: str) -> str:
    return (
        "<!doctype html><html><head><title>bench</title>"
        f'<script defer data-website-id="{site}" data-domain="127.0.0.1" data-allow-localhost="true" '
        f'data-allow-automation="true" src="{server.url}/js/script.js"></script>'
        f"<script>{FPJS.read_text()}</script></head><body>bench</body></html>"
    )


POPULATION_DOMAIN = "bench.example.com"


def synced_workflow(server: ServerProcess, admin: str, receiver: Receiver) -> None:
    """A Floqer source of the site's people, synced into a webhook workflow to `receiver`."""
    api = httpx.Client(base_url=server.url + "/api/v1", headers={"authorization": f"Bearer {admin}"}, timeout=10)
    made = api.post("/workflows", json={"name": "crm", "kind": "webhook", "inputs": ["email", "page"],
                                        "url": receiver.url + "/in"}).json()["data"]  # fmt: skip
    source = api.post("/sources/track_personal_website_visitors",
                      json={"name": "people", "active_domain": POPULATION_DOMAIN}).json()["data"]  # fmt: skip
    mapping = {"input.email": "email", "input.page": "pageUrl"}
    synced = api.post(f"/sources/{source['source_instance_id']}/sync",
                      json={"workflow_id": made["id"], "field_mapping": mapping})  # fmt: skip
    assert synced.status_code == 200, synced.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    if not FPJS.exists():
        subprocess.run(["npm", "ci", "--silent"], cwd=ROOT / "bench", check=True)
    version = json.loads((FPJS_DIR / "package.json").read_text())["version"]
    profiles = devices(args.trials * 4 + 1)
    chunks = [profiles[i * args.trials : (i + 1) * args.trials] for i in range(4)]
    started = time.monotonic()
    with sync_playwright() as pw:
        with tempfile.TemporaryDirectory() as work, footfall_server(work) as (server, site, key, _, _):
            reader = FingerprintReader(server.url, key)
            with PageServer({"/": tag_page(server, site)}) as web:
                url = web.url + "/"
                cases = [
                    ("(a) cleared storage -> same visitor", ">= 99%",
                     cleared_storage(pw, url, web.url, chunks[0], reader.visitor)),
                    ("(b) private context -> same visitor", ">= 95%",
                     private_window(pw, url, chunks[1], reader.visitor)),
                    ("(c) distinct devices -> distinct ids", ">= 99%", distinct_devices(pw, url, chunks[2])),
                    ("(d) two profiles -> never merged", "100%", two_profiles(pw, url, chunks[3], reader)),
                ]  # fmt: skip
        with (
            tempfile.TemporaryDirectory() as work,
            footfall_server(work, POPULATION_DOMAIN) as (server, site, _, admin, store),
            Receiver() as receiver,
        ):
            synced_workflow(server, admin, receiver)
            with PageServer({"/": tag_page(server, site)}) as web:
                crowd = population(pw, web, profiles[-1], store, receiver)
    elapsed = time.monotonic() - started
    print(f"\nIdentification, real Chromium, {args.trials} trials per case ({elapsed:.0f} s)\n")
    print(f"| case | footfall | FingerprintJS {version} (open source) | target |")
    print("| --- | --- | --- | --- |")
    for name, target, t in cases:
        print(f"| {name} | {percent(t.footfall, t.trials)} | {percent(t.fingerprintjs, t.trials)} | {target} |")
    for name, _, t in cases:
        for note, hits in t.notes.items():
            print(f"- {name[:3]} footfall, {note}: {percent(hits, t.trials)}")
    print(f"\n(e) population: {CONTEXTS} contexts of one emulated device on one IP, {PEOPLE} people, "
          f"{ROUNDS} rounds, {len(CLEARERS)} clearing storage\n")  # fmt: skip
    print("| measure | footfall | target |")
    print("| --- | --- | --- |")
    print(f"| visits attributed to the wrong person | {crowd.wrong} of {crowd.visits} | 0 |")
    print(f"| deliveries naming the wrong person | {crowd.wrong_deliveries} of {crowd.deliveries} | 0 |")
    print(f"| visits attributed to their person | {crowd.right} of {crowd.visits} | |")
    print(f"| recovery: visits of people after clearing storage attributed to them | "
          f"{crowd.recovered} of {crowd.after_clearing} | (what precision costs) |")  # fmt: skip


if __name__ == "__main__":
    main()
