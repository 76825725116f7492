"""Dashboard users, their passwords and sessions (docs/dashboard.md).

Passwords are hashed with scrypt at OWASP's recommended cost (n=2^17, r=8, p=1; 128 MiB and
about 0.3 s a login on a small machine) with a 16-byte salt, stored as `scrypt$n$r$p$salt$hash`.
A session is a random 32-byte token in an HttpOnly, SameSite=Lax cookie
(Secure unless `FOOTFALL_DASHBOARD_INSECURE_COOKIES`); only its SHA-256 is stored, with a CSRF
token every form of that session carries.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from footfall.store.base import Tx

N, R, P = 2**17, 8, 1
MAXMEM = 2**28
SESSION_DAYS = 14
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


class BadUser(ValueError):
    pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, n: int = N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, maxmem=MAXMEM, dklen=32)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=MAXMEM, dklen=32
        )
    except ValueError:
        return False
    return kind == "scrypt" and hmac.compare_digest(got, _unb64(digest))


@functools.cache
def _dummy() -> str:
    """A hash to check against when the email is unknown, so both cases take the same time."""
    return hash_password(secrets.token_hex(8))


@dataclass(frozen=True)
class User:
    id: str
    account_id: str
    email: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def add_user(tx: Tx, account_id: str, email: str, password: str, now: int) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise BadUser(f"not an email address: {email!r}")
    if len(password) < MIN_PASSWORD:
        raise BadUser(f"the password needs at least {MIN_PASSWORD} characters")
    if tx.one("SELECT 1 AS x FROM users WHERE email = ?", (email,)):
        raise BadUser(f"a user {email} already exists")
    user = User(secrets.token_hex(8), account_id, email)
    tx.execute(
        "INSERT INTO users (id, account_id, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (user.id, account_id, email, hash_password(password), now),
    )
    return user


def authenticate(tx: Tx, email: str, password: str) -> User | None:
    row = tx.one("SELECT * FROM users WHERE email = ?", (email.strip().lower(),))
    ok = check_password(password, row["password_hash"] if row else _dummy())
    return User(row["id"], row["account_id"], row["email"]) if row and ok else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(tx: Tx, user: User, now: int) -> str:
    """A new session's token (the cookie's value)."""
    token = secrets.token_urlsafe(32)
    tx.execute(
        "INSERT INTO user_sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (_token_hash(token), user.id, secrets.token_urlsafe(24), now, now + SESSION_DAYS * 86_400_000),
    )
    return token


def session_of(tx: Tx, token: str | None, now: int) -> Session | None:
    if not token:
        return None
    row = tx.one(
        "SELECT s.csrf, s.expires_at, u.id, u.account_id, u.email FROM user_sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (_token_hash(token),),
    )
    if row is None or row["expires_at"] <= now:
        return None
    return Session(User(row["id"], row["account_id"], row["email"]), row["csrf"])


def end_session(tx: Tx, token: str) -> None:
    tx.execute("DELETE FROM user_sessions WHERE token_hash = ?", (_token_hash(token),))
