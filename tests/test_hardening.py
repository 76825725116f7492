"""[T7]'s findings, each shown fixed (docs/reliability.md): site keys stay in their site (2),
outbound requests reach only public addresses (3), Slack text is escaped (4), bodies are bounded
everywhere (6), erasure leaves no trace (9), secrets stay private (11), one SQLite server per data
directory (12). Findings 1 and 10 are in tests/ingest/test_writer_process.py and
tests/test_hostile.py, 5 in tests/dashboard/test_logins.py, 7 in tests/api/test_realtime_caps.py,
8 in tests/test_net.py.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from footfall import accounts
from footfall.cli import cli
from footfall.outbound import Outbound
from footfall.settings import Settings
from footfall.workflows import MASK
from tests.support.collect import event, post
from tests.support.provider import Provider
from tests.support.receiver import Receiver
from tests.support.servers import AppServer, ServerProcess, free_port

PERSONAL = "track_personal_website_visitors"


def _keys(server: AppServer) -> tuple[str, str, str, str]:
    """(site A, site B, an account key, a site key of B); both sites in one account."""

    def go(tx: Any) -> tuple[str, str, str, str]:
        account, _ = accounts.ensure_account(tx, "test", 0)
        a = accounts.create_site(tx, account["id"], "a.example.com", 0)
        b = accounts.create_site(tx, account["id"], "b.example.com", 0)
        whole, _ = accounts.create_key(tx, account["id"], ["*"], 0)
        only_b, _ = accounts.create_key(tx, account["id"], ["*"], 0, site_id=b.id)
        return a.id, b.id, whole, only_b

    return server.store.write(go)


def _call(server: AppServer, key: str, method: str, path: str, body: Any = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.request(method, f"{server.url}/api/v1{path}", json=body, headers=headers, timeout=10)


def test_2_a_site_key_reaches_only_its_sites_workflows_and_headers_are_write_only(server: AppServer) -> None:
    with Receiver() as receiver:
        _, _, whole, only_b = _keys(server)
        made = _call(server, whole, "POST", "/workflows", {"name": "crm", "kind": "webhook", "inputs": ["email"],
                                                           "url": receiver.url + "/a",
                                                           "headers": {"X-Crm-Token": "tok-123"}})  # fmt: skip
        assert made.status_code == 201, made.text
        workflow = made.json()["data"]
        source = _call(server, whole, "POST", f"/sources/{PERSONAL}", {"name": "a", "active_domain": "a.example.com"})
        a_source = source.json()["data"]["source_instance_id"]
        synced = _call(server, whole, "POST", f"/sources/{a_source}/sync",
                       {"workflow_id": workflow["id"], "field_mapping": {"input.email": "email"}})  # fmt: skip
        assert synced.status_code == 200, synced.text
        assert workflow["headers"] == {"X-Crm-Token": MASK}  # write-only, even in the answer that made it
        listed = _call(server, whole, "GET", "/workflows").json()["data"]
        assert "tok-123" not in str(listed) and listed[0]["headers"] == {"X-Crm-Token": MASK}
        # site B's key: site A's workflow does not exist for it
        assert _call(server, only_b, "GET", "/workflows").json()["data"] == []
        for method, path, body in [
            ("GET", f"/workflows/{workflow['id']}", None),
            ("PATCH", f"/workflows/{workflow['id']}", {"url": "https://evil.example.com/"}),
            ("DELETE", f"/workflows/{workflow['id']}", None),
            ("GET", f"/workflows/{workflow['id']}/deliveries", None),
            ("POST", f"/workflows/{workflow['id']}/deliveries/x/replay", None),
        ]:
            assert _call(server, only_b, method, path, body).status_code == 404, (method, path)
        b_source = _call(
            server, only_b, "POST", f"/sources/{PERSONAL}", {"name": "b", "active_domain": "b.example.com"}
        )
        sync = _call(server, only_b, "POST", f"/sources/{b_source.json()['data']['source_instance_id']}/sync",
                     {"workflow_id": workflow["id"], "field_mapping": {"input.email": "email"}})  # fmt: skip
        assert sync.status_code == 404  # it cannot feed its rows into site A's workflow either
        # its own workflow it reaches; a masked header sent back keeps the secret
        mine = {"name": "b", "kind": "webhook", "inputs": ["email"], "url": receiver.url + "/b",
                "headers": {"Authorization": "Bearer b-secret"}}  # fmt: skip
        own = _call(server, only_b, "POST", "/workflows", mine)
        assert own.status_code == 201 and own.json()["data"]["site_id"] is not None
        kept = _call(server, only_b, "PATCH", f"/workflows/{own.json()['data']['id']}",
                     {"headers": {"Authorization": MASK, "X-More": "1"}})  # fmt: skip
        assert kept.status_code == 200
        config = server.store.read(lambda tx: tx.one("SELECT config FROM workflows WHERE id = ?",
                                                     (own.json()["data"]["id"],)))["config"]  # fmt: skip
        assert "Bearer b-secret" in config and '"X-More":"1"' in config
        assert _call(server, whole, "GET", f"/workflows/{workflow['id']}").status_code == 200


INTERNAL = ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
            "http://[fd00:ec2::254]/", "http://10.0.0.5/", "http://192.168.1.1/", "http://localhost:8080/",
            "http://[::1]/", "http://0.0.0.0/", "http://2130706433/", "http://0x7f.1/", "http://127.1/",
            "http://user:pass@127.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/"]  # fmt: skip


@pytest.fixture
def public_only(settings: Settings) -> Settings:
    return settings.replace(outbound_allow=())  # the default: what tests elsewhere relax for loopback receivers


def test_3_workflows_cannot_point_inside_the_network(public_only: Settings) -> None:
    with AppServer(public_only) as server:
        _, _, whole, _ = _keys(server)
        for url in INTERNAL:
            for kind, extra in (("webhook", {}), ("slack", {"template": "{{input.email}}"})):
                body = {"name": "x", "kind": kind, "inputs": ["email"], "url": url, **extra}
                answer = _call(server, whole, "POST", "/workflows", body)
                assert answer.status_code == 400, (url, answer.text)
                assert "url" in answer.json()["message"], answer.text
        fine = _call(server, whole, "POST", "/workflows", {"name": "x", "kind": "webhook", "inputs": ["email"],
                                                            "url": "https://hooks.example.com/in"})  # fmt: skip
        assert fine.status_code == 201
        bad = _call(server, whole, "PATCH", f"/workflows/{fine.json()['data']['id']}", {"url": "http://10.1.1.1/"})
        assert bad.status_code == 400


def _delivery_to(server: AppServer, receiver: Receiver, site: str, whole: str) -> None:
    made = _call(server, whole, "POST", "/workflows", {"name": "crm", "kind": "webhook", "inputs": ["email"],
                                                       "url": receiver.url + "/hook"})  # fmt: skip
    source = _call(server, whole, "POST", f"/sources/{PERSONAL}", {"name": "a", "active_domain": "a.example.com"})
    _call(server, whole, "POST", f"/sources/{source.json()['data']['source_instance_id']}/sync",
          {"workflow_id": made.json()["data"]["id"], "field_mapping": {"input.email": "email"}})  # fmt: skip
    visitor = post(server.url, event(site, "https://a.example.com/")).json()["visitorId"]
    assert (
        _call(
            server,
            whole,
            "POST",
            f"/identify?websiteId={site}",
            {"user_id": "u-1", "email": "kim@acme.com", "datafast_visitor_id": visitor},
        ).status_code
        == 200
    )


def _sent(server: AppServer, until: Any) -> Any:
    """The delivery once `until(row)` holds: the server's own sender runs every second beside the
    test's, and whichever claims the delivery first records the attempt."""
    deadline = time.monotonic() + 10
    while True:
        asyncio_run(server, server.app.state.sender.run_once())
        row = server.store.read(lambda tx: tx.one("SELECT * FROM deliveries"))
        if until(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def test_3_the_send_checks_the_address_and_never_keeps_a_reply(settings: Settings, public_only: Settings) -> None:
    """A workflow made while loopback was allowed, sent after it was not: refused at send time,
    failed at once (retrying cannot help), nothing reached. A receiver's 500 body is never kept."""
    with Receiver() as receiver, AppServer(settings) as server:
        a, _, whole, _ = _keys(server)
        receiver.reply = b"internal service: db password is hunter2"
        receiver.mode = "fail"
        _delivery_to(server, receiver, a, whole)
        # the server's own sender runs every second too: whichever sends first, the attempt is recorded
        row = _sent(server, lambda r: r["last_status"] is not None)
        assert row["last_status"] == 500 and row["last_error"] == "HTTP 500" and "hunter2" not in str(row)
        reached = len(receiver.requests)
        server.app.state.sender.outbound = Outbound()  # what public_only builds: loopback refused
        server.store.write(lambda tx: tx.execute("UPDATE deliveries SET next_attempt_at = 0"))
        row = _sent(server, lambda r: r["status"] != "pending")
        assert row["status"] == "failed" and row["last_error"].startswith("outbound request refused")
        assert len(receiver.requests) == reached
    assert public_only.outbound_allow == ()


def asyncio_run(server: AppServer, coro: Any) -> Any:
    assert server.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, server.loop).result(timeout=20)


def test_4_slack_gets_visitor_text_escaped(server: AppServer) -> None:
    with Receiver() as receiver:
        a, _, whole, _ = _keys(server)
        made = _call(server, whole, "POST", "/workflows", {"name": "s", "kind": "slack", "inputs": ["name"],
                                                           "url": receiver.url + "/services/T/B/X",
                                                           "template": "<!here> new lead: {{input.name}}"})  # fmt: skip
        source = _call(server, whole, "POST", f"/sources/{PERSONAL}", {"name": "a", "active_domain": "a.example.com"})
        _call(server, whole, "POST", f"/sources/{source.json()['data']['source_instance_id']}/sync",
              {"workflow_id": made.json()["data"]["id"], "field_mapping": {"input.name": "firstName"}})  # fmt: skip
        visitor = post(server.url, event(a, "https://a.example.com/")).json()["visitorId"]
        hostile = "<!channel> <https://evil.example|click> & co"
        post(server.url, event(a, "https://a.example.com/", type="identify", visitorId=visitor,
                               extraData={"user_id": "u-9", "first_name": hostile}))  # fmt: skip
        [got] = receiver.wait(1).values()
        text = got.json()["text"]
        assert text.startswith("<!here> new lead: ")  # the owner's markup is kept
        assert text.endswith("&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co")


def _big_body(server: AppServer, path: str, size: int, chunked: bool, key: str) -> httpx.Response:
    def chunks() -> Any:
        sent = 0
        while sent < size:
            yield b"x" * 65536
            sent += 65536

    content: Any = chunks() if chunked else b"x" * size
    kind = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
    headers = {"content-type": kind, "authorization": f"Bearer {key}"}
    return httpx.post(server.url + path, content=content, headers=headers, timeout=30)


@pytest.mark.parametrize("chunked", [False, True])
def test_6_every_endpoint_bounds_its_body(server: AppServer, chunked: bool) -> None:
    site, _ = server.add_site("example.com")
    key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
    limit = 1_048_576
    for path in ("/api/identify", f"/api/webhooks/stripe/{site}", "/login", f"/api/v1/identify?websiteId={site}",
                 "/api/v1/workflows", "/api/events", f"/api/v1/payment?websiteId={site}"):  # fmt: skip
        answer = _big_body(server, path, 4 * limit, chunked, key)
        assert answer.status_code == 413, (path, chunked, answer.status_code, answer.text[:200])
    contacts = _big_body(server, f"/api/v1/contacts/import?websiteId={site}", 20 * limit, chunked, key)
    assert contacts.status_code == 413  # imports have a larger bound (FOOTFALL_MAX_IMPORT_BYTES), still a bound


def test_6_too_many_or_too_large_headers_are_refused(server: AppServer) -> None:
    many = {f"x-h{i}": "1" for i in range(150)}
    assert httpx.get(server.url + "/api/v1/people", headers=many).status_code == 431
    big = {"x-big": "y" * 100_000}
    assert httpx.get(server.url + "/api/v1/people", headers=big).status_code == 431
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_9_erasing_a_person_leaves_no_trace(settings: Settings, backend: str) -> None:
    provider = Provider()
    try:
        with AppServer(settings.replace(enrichment_url=f"http://127.0.0.1:{provider.port}/enrich")) as server:
            site, _ = server.add_site("example.com")
            key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
            visitor = post(server.url, event(site)).json()["visitorId"]
            email = "ana@acme.com"
            auth = {"authorization": f"Bearer {key}"}
            httpx.post(f"{server.url}/api/v1/identify?websiteId={site}", headers=auth,
                       json={"user_id": "erase-me", "email": email, "datafast_visitor_id": visitor})  # fmt: skip
            httpx.post(f"{server.url}/api/v1/payments?websiteId={site}", headers=auth,
                       json={"amount": 5, "currency": "USD", "transaction_id": "t-9", "email": email,
                             "customer_id": "cus_ERASE", "datafast_visitor_id": visitor})  # fmt: skip
            server.app.state.enrichment.run_once()
            cached = server.store.read(lambda tx: tx.all("SELECT key FROM enrichment_cache"))
            assert [r["key"] for r in cached] == [f"person:{email}"]
            people = httpx.get(f"{server.url}/api/v1/people?websiteId={site}", headers=auth).json()["data"]
            gone = httpx.delete(f"{server.url}/api/v1/people/{people[0]['id']}?websiteId={site}", headers=auth)
            assert gone.status_code == 200
            assert server.store.read(lambda tx: tx.all("SELECT key FROM enrichment_cache")) == []
            payment = server.store.read(lambda tx: tx.one("SELECT * FROM payments"))
            assert payment["amount"] == 5 and payment["customer_id"] is None and payment["email"] is None
            if backend == "sqlite":  # no copy in the database file or its write-ahead log
                folder = Path(settings.data_dir)
                for name in ("footfall.db", "footfall.db-wal"):
                    if (folder / name).exists():
                        data = (folder / name).read_bytes()
                        assert email.encode() not in data and b"cus_ERASE" not in data, name
    finally:
        provider.httpd.shutdown()


def test_11_the_data_directory_is_private(settings: Settings, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL keeps its own files")
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True)
    folder.chmod(0o755)  # as an earlier version left it
    with AppServer(settings) as server:
        site, _ = server.add_site("example.com")
        post(server.url, event(site))
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for name in ("footfall.db", "footfall.db-wal", "footfall.db-shm"):
            if (folder / name).exists():
                assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name


def test_11_settings_are_shown_masked(settings: Settings) -> None:
    env = {"FOOTFALL_DATA_DIR": settings.data_dir, "FOOTFALL_SECRET_KEY": "sign-me-secretly",
           "FOOTFALL_METRICS_TOKEN": "metrics-token-1", "FOOTFALL_ENRICHMENT_TOKEN": "enrich-token-1",
           "FOOTFALL_DATABASE_URL": "postgresql://app:db-password-1@db.example.com/footfall"}  # fmt: skip
    out = CliRunner().invoke(cli, ["settings"], env=env).output
    for secret in ("sign-me-secretly", "metrics-token-1", "enrich-token-1", "db-password-1"):
        assert secret not in out
    assert "postgresql://app:****@db.example.com/footfall" in out


def test_11_exports_are_formula_safe_and_amounts_bounded(server: AppServer, tmp_path: Path) -> None:
    site, _ = server.add_site("example.com")
    key = server.store.write(lambda tx: accounts.create_key(tx, accounts.first_account(tx)["id"], ["*"], 0)[0])
    auth = {"authorization": f"Bearer {key}"}
    huge = httpx.post(f"{server.url}/api/v1/payments?websiteId={site}", headers=auth,
                      json={"amount": 1e308, "currency": "USD", "transaction_id": "t"})  # fmt: skip
    assert huge.status_code == 400 and "amount" in huge.json()["error"]["message"]
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("email,name\n=1+2@example.com,Formula\n+cmd@example.com,Plus\nok@example.com,Fine\n")
    links = tmp_path / "links.csv"
    env = {"FOOTFALL_DATA_DIR": str(Path(server.app.state.components.settings.data_dir)),
           "FOOTFALL_DATABASE_URL": server.app.state.components.settings.database_url}  # fmt: skip
    result = CliRunner().invoke(cli, ["contacts", "import", str(contacts), "--site", site, "--links", str(links)],
                                env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = io.StringIO(links.read_text()).read().splitlines()
    cells = [line.split(",")[0] for line in lines[1:]]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells), cells
    assert "ok@example.com" in cells


def test_12_a_second_server_on_one_sqlite_directory_stops_with_a_clear_message(tmp_path: Path) -> None:
    env = {"FOOTFALL_DATA_DIR": str(tmp_path / "data"), "FOOTFALL_SCORING_INTERVAL_SECONDS": "0"}
    first = ServerProcess(env, log=tmp_path / "first.log").start()
    try:
        second = subprocess.run([sys.executable, "-m", "footfall", "serve", "--port", str(free_port())],
                                env={**os.environ, **env}, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert second.returncode == 1, second.stdout + second.stderr
        assert "another footfall server" in second.stderr and "SQLite serves one instance" in second.stderr
        assert httpx.get(first.url + "/healthz").text == "ok"  # the first one is untouched
    finally:
        first.stop()
    again = ServerProcess(env, log=tmp_path / "third.log").start()  # the lock went with its holder
    again.stop()
