"""Dashboard users, their passwords and sessions (docs/dashboard.md).

Passwords are hashed with Argon2id (argon2-cffi) at OWASP's first recommended cost (19 MiB,
two passes, one lane: about 30 ms and 19 MiB a login), in PHC format. Hashes of earlier versions
(scrypt at 128 MiB) still verify and are replaced by an Argon2id hash at the next login. A
password needs 10 characters and zxcvbn's score 3 ("safely unguessable"): common passwords,
keyboard runs, repeats and the blank are refused, with zxcvbn's advice in the message.
A session is a random 32-byte token in an HttpOnly, SameSite=Lax cookie
(Secure unless `FOOTFALL_DASHBOARD_INSECURE_COOKIES`); only its SHA-256 is stored, with a CSRF
token every form of that session carries. `footfall users remove` deletes a user with their
sessions; `footfall users revoke` ends every session of a user.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from footfall.store.base import Row, Tx

MAXMEM = 2**28  # scrypt hashes of earlier versions
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)  # OWASP's Argon2id settings
SESSION_DAYS = 14
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
MIN_STRENGTH = 3  # zxcvbn's score: 3 is "safely unguessable", 4 "very unguessable"


class BadUser(ValueError):
    pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=MAXMEM, dklen=32
        )
    except ValueError:
        return False
    return kind == "scrypt" and hmac.compare_digest(got, _unb64(digest))


def check_password(password: str, stored: str) -> tuple[bool, bool]:
    """(it matches, the stored hash should be replaced by a current one)."""
    if stored.startswith("scrypt$"):
        ok = _check_scrypt(password, stored)
        return ok, ok
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, HASHER.check_needs_rehash(stored)


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"the password needs at least {MIN_PASSWORD} characters"
    if not password.strip():
        return "the password cannot be blank"
    found = zxcvbn(password[:100], user_inputs=[email, *email.split("@")] if email else [])
    if found["score"] < MIN_STRENGTH:
        advice = " ".join(filter(None, [found["feedback"]["warning"], *found["feedback"]["suggestions"]]))
        return f"the password is too easy to guess{': ' + advice if advice else ''}"
    return None


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
    if problem := password_problem(password, email):
        raise BadUser(problem)
    if tx.one("SELECT 1 AS x FROM users WHERE email = ?", (email,)):
        raise BadUser(f"a user {email} already exists")
    user = User(secrets.token_hex(8), account_id, email)
    tx.execute(
        "INSERT INTO users (id, account_id, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (user.id, account_id, email, hash_password(password), now),
    )
    return user


def find_user(tx: Tx, email: str) -> Row | None:
    return tx.one("SELECT * FROM users WHERE email = ?", (email.strip().lower(),))


def verify(row: Row | None, password: str) -> tuple[User | None, bool]:
    """(the user if the password is theirs, whether their hash should be replaced). Hashes even
    when there is no such user, so both cases take the same time. CPU and memory heavy: run it in
    `PasswordChecks`, never on the event loop or the API's thread pool."""
    ok, rehash = check_password(password, row["password_hash"] if row else _dummy())
    if row is None or not ok:
        return None, False
    return User(row["id"], row["account_id"], row["email"]), rehash


def set_password_hash(tx: Tx, user_id: str, password_hash: str) -> None:
    tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


def remove_user(tx: Tx, email: str) -> bool:
    """Deletes a user and ends their sessions; False when there is no such user."""
    row = find_user(tx, email)
    if row is None:
        return False
    tx.execute("DELETE FROM user_sessions WHERE user_id = ?", (row["id"],))
    tx.execute("DELETE FROM users WHERE id = ?", (row["id"],))
    return True


def revoke_sessions(tx: Tx, email: str) -> int | None:
    """Ends every session of a user (they must log in again); None when there is no such user."""
    row = find_user(tx, email)
    if row is None:
        return None
    ended = tx.all("DELETE FROM user_sessions WHERE user_id = ? RETURNING token_hash", (row["id"],))
    return len(ended)


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
