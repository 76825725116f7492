"""[T7] 5: logins are throttled per address and per account (429 with Retry-After), passwords are
Argon2id (earlier scrypt hashes upgraded at the next login), weak and blank passwords are refused,
and users can be removed and their sessions ended."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from footfall import accounts
from footfall.cli import cli
from footfall.dashboard import users
from footfall.settings import Settings
from tests.support.servers import AppServer

EMAIL, PASSWORD = "owner@shop.example.com", "correct horse battery staple"


def _user(server: AppServer, email: str = EMAIL, password: str = PASSWORD) -> None:
    def go(tx: Any) -> None:
        account, _ = accounts.ensure_account(tx, "test", 0)
        users.add_user(tx, account["id"], email, password, 0)

    server.store.write(go)


def _login(server: AppServer, email: str, password: str, ip: str = "203.0.113.7") -> httpx.Response:
    """The login form as a browser posts it, from client address `ip` (behind the trusted proxy)."""
    form = httpx.get(server.url + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    return httpx.post(
        server.url + "/login",
        data={"email": email, "password": password, "csrf": token, "next": "/"},
        headers={"cookie": f"ff_login_csrf={token}", "x-forwarded-for": ip},
    )


def test_wrong_passwords_are_throttled_per_address_and_per_account(server: AppServer) -> None:
    _user(server)
    for _ in range(10):
        assert _login(server, EMAIL, "wrong password 123").status_code == 401
    throttled = _login(server, EMAIL, PASSWORD)  # even the right one, from that address, waits
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many failed logins" in throttled.text
    assert _login(server, EMAIL, PASSWORD, ip="198.51.100.9").status_code == 303  # another address may
    for i in range(20):  # many addresses guessing one account
        _login(server, EMAIL, "wrong password 123", ip=f"192.0.2.{i + 1}")
    assert _login(server, EMAIL, PASSWORD, ip="198.51.100.10").status_code == 429


def test_passwords_are_argon2id_and_old_scrypt_hashes_are_upgraded(server: AppServer) -> None:
    _user(server)
    stored = server.store.read(lambda tx: tx.one("SELECT password_hash FROM users"))["password_hash"]
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored
    salt = secrets.token_bytes(16)  # a hash in 0.1.0's format (scrypt; n lowered to keep the test quick)
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    legacy = f"scrypt${2**14}$8$1${b64(salt)}${b64(digest)}"
    server.store.write(lambda tx: tx.execute("UPDATE users SET password_hash = ?", (legacy,)))
    assert _login(server, EMAIL, PASSWORD).status_code == 303
    upgraded = server.store.read(lambda tx: tx.one("SELECT password_hash FROM users"))["password_hash"]
    assert upgraded.startswith("$argon2id$")
    assert _login(server, EMAIL, PASSWORD, ip="198.51.100.3").status_code == 303  # and it still works


@pytest.mark.parametrize("weak", ["          ", "1234567890", "password123", "qwertyuiop", "owner@shop.example.com1"])
def test_weak_and_blank_passwords_are_refused(settings: Settings, weak: str) -> None:
    with AppServer(settings) as server, pytest.raises(users.BadUser):
        _user(server, password=weak)


def test_users_can_be_removed_and_their_sessions_ended(settings: Settings) -> None:
    env = {"FOOTFALL_DATA_DIR": settings.data_dir, "FOOTFALL_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", EMAIL, "--password", PASSWORD], env=env)
    assert added.exit_code == 0, added.output
    with AppServer(settings) as server:
        logged = _login(server, EMAIL, PASSWORD)
        session = logged.cookies.get("ff_session") or re.search(r"ff_session=([^;]+)", logged.headers["set-cookie"])[1]
        cookie = {"cookie": f"ff_session={session}"}
        assert httpx.get(server.url + "/sites", headers=cookie).status_code == 200
        revoked = runner.invoke(cli, ["users", "revoke", EMAIL], env=env)
        assert revoked.exit_code == 0 and "1 session" in revoked.output
        assert httpx.get(server.url + "/sites", headers=cookie).status_code == 303  # back to the login form
        session = re.search(r"ff_session=([^;]+)", _login(server, EMAIL, PASSWORD).headers["set-cookie"])[1]
        removed = runner.invoke(cli, ["users", "remove", EMAIL], env=env)
        assert removed.exit_code == 0, removed.output
        assert httpx.get(server.url + "/sites", headers={"cookie": f"ff_session={session}"}).status_code == 303
        assert _login(server, EMAIL, PASSWORD, ip="198.51.100.4").status_code == 401
    assert runner.invoke(cli, ["users", "remove", EMAIL], env=env).exit_code == 1
