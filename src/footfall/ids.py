"""Identifiers: request ids, site ids, session ids, API keys and signed visitor ids.

A signed visitor id is a UUID in the v4 format whose last 48 bits are an HMAC
tag over its first 80 bits and the site id. Those first 80 bits start with the
creation time in milliseconds (48 bits, as in UUIDv7) so that new visitors land
at the end of every index instead of on a random page, then 26 random bits. It stays a valid UUID, so it
works wherever DataFast and PostMetric expect one (cookies, payment metadata,
`GET /api/v1/visitors/{id}`), yet nobody without the server's secret can make
one that verifies, and an id signed for one site does not verify on another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string
import threading
import time
import uuid

_ALNUM = string.ascii_letters + string.digits


class _RandomPool:
    """Random bytes from the OS, read 64 KB at a time: an id costs a slice, not a system call
    (the writer makes one for every new visitor and session). Thread-safe."""

    SIZE = 65_536

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._lock = threading.Lock()
        self._buf, self._pos = b"", 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._pos + n > len(self._buf):
                self._buf, self._pos = os.urandom(self.SIZE), 0
            out = self._buf[self._pos : self._pos + n]
            self._pos += n
            return out


_random = _RandomPool()
os.register_at_fork(after_in_child=_random.reset)  # a forked child never reuses its parent's bytes


def _alnum(n: int) -> str:
    """`n` random letters and digits: one urandom call, bytes of 248 and above (4 x 62) skipped so
    every character is equally likely (unbiased), then mapped through a translation table."""
    while True:
        chars = _random.take(n * 2).translate(_TO_ALNUM, _UNEVEN)
        if len(chars) >= n:
            return chars[:n].decode()


_TO_ALNUM = bytes(ord(_ALNUM[b % 62]) for b in range(256))
_UNEVEN = bytes(range(248, 256))


def request_id(now_ms: int) -> str:
    """Fingerprint-style request id: `<ms>.<6 chars>`."""
    return f"{now_ms}.{_alnum(6)}"


def site_id() -> str:
    """24 hex characters, the shape of DataFast website ids."""
    return secrets.token_hex(12)


def time_ordered_head(now_ms: int | None = None) -> bytearray:
    """10 bytes: 48-bit ms timestamp, then random bits, with UUID v4 version and variant bits set."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    head = bytearray(ms.to_bytes(6, "big") + _random.take(4))
    head[6] = (head[6] & 0x0F) | 0x40  # version 4 (the format clients expect)
    head[8] = (head[8] & 0x3F) | 0x80  # RFC 4122 variant
    return head


def uuid_text(raw: bytes) -> str:
    """16 bytes as the canonical 8-4-4-4-12 lowercase text (what str(uuid.UUID(bytes=raw)) gives,
    without building the object: this runs for every new visitor and session)."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _time_ordered_uuid() -> str:
    """A UUID (v4 format): 48-bit ms timestamp, then 74 random bits, from one urandom call (this runs
    for every new session)."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + _random.take(10))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid_text(bytes(raw))


def session_id() -> str:
    """`s` + a UUID (v4 format, time-ordered), 37 characters, as DataFast's session cookie."""
    return "s" + _time_ordered_uuid()


def person_id() -> str:
    """A person's public id: a UUID (v4 format, time-ordered)."""
    return _time_ordered_uuid()


def api_key() -> str:
    return "ff_" + _alnum(40)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except (ValueError, AttributeError, TypeError):
        return False


class VisitorSigner:
    """Makes and checks signed visitor ids for one server secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, site: str, head: bytes) -> bytes:
        return hmac.digest(self._secret, site.encode() + b"|" + head, "sha256")[:6]  # one-shot, in C

    def new(self, site: str, now_ms: int | None = None) -> str:
        head = bytes(time_ordered_head(now_ms))
        return uuid_text(head + self._tag(site, head))

    def verify(self, site: str, value: object) -> bool:
        if not isinstance(value, str) or len(value) != 36 or value[8] != "-" or value[23] != "-":
            return False
        try:
            raw = bytes.fromhex(value.replace("-", ""))
        except ValueError:
            return False
        return len(raw) == 16 and hmac.compare_digest(raw[10:], self._tag(site, raw[:10]))


class LinkSigner:
    """Email-link tokens (`ff_t`): a person's id, when the token was made and an HMAC tag, bound to
    the site, base64url, 43 characters.

    Whoever holds the token is taken to be that person (it was sent to their inbox), so it is
    unforgeable without the server's secret and useless on another site. It expires
    (`FOOTFALL_LINK_TOKEN_DAYS` after it was made) and identifies only the first browser that uses
    it unless the site allows more (ingest/writer.py). Tokens of 0.1.0 (38 characters, no time)
    never expired: they are no longer accepted.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, site: str, raw: bytes) -> bytes:
        return hmac.digest(self._secret, b"link2|" + site.encode() + b"|" + raw, "sha256")[:12]

    def token(self, site: str, person_id: str, now_ms: int) -> str:
        raw = uuid.UUID(person_id).bytes + (now_ms // 1000).to_bytes(4, "big")
        return base64.urlsafe_b64encode(raw + self._tag(site, raw)).decode().rstrip("=")

    def read(self, site: str, token: object) -> tuple[str, int] | None:
        """(the person a token names, when it was made in ms), or None when it is not a valid
        token for this site."""
        if not isinstance(token, str) or len(token) != 43:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=")
        except (ValueError, TypeError):
            return None
        if len(raw) != 32 or not hmac.compare_digest(raw[20:], self._tag(site, raw[:20])):
            return None
        return str(uuid.UUID(bytes=raw[:16])), int.from_bytes(raw[16:20], "big") * 1000
