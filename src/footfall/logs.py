"""Logging that never writes a secret or a person's data (docs/reliability.md, "Secrets").

uvicorn's access log shows each request's path and query. Fingerprint's clients may send their
key as `?api_key=` (or the legacy `?token=`) and an email link carries `?ff_t=`: those values are
masked, whatever the spelling a client used (`api%5Fkey`, `API_KEY`, `api-key`), since the server
decodes the names the same way. A query that carries personal data (an email, a name, a phone, a
user id: the people and visitor searches, PostMetric's GIF) is not written at all.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

SECRET_NAMES = frozenset({"api_key", "apikey", "token", "ff_t", "key", "secret", "password", "auth", "signature"})
PERSONAL_NAMES = frozenset({"email", "name", "first_name", "last_name", "phone", "user_id", "userid", "q", "search",
                            "filter_email", "ip", "ip_address", "linked_id", "customer_email"})  # fmt: skip
QUERY = re.compile(r"\?([^\s\"]*)")
PERSONAL = "?[query with personal data not logged]"


def _name(raw: str) -> str:
    return unquote_plus(raw).strip().lower().replace("-", "_")


def _clean(match: re.Match[str]) -> str:
    kept = []
    for part in match.group(1).split("&"):
        raw_name, eq, value = part.partition("=")
        name = _name(raw_name)
        if name in PERSONAL_NAMES or "@" in unquote_plus(value):
            return PERSONAL
        kept.append(f"{raw_name}=***" if name in SECRET_NAMES and eq else part)
    return "?" + "&".join(kept)


def redact(text: str) -> str:
    return QUERY.sub(_clean, text) if "?" in text else text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """On uvicorn's loggers (idempotent: one filter each)."""
    for name in ("uvicorn.access", "uvicorn.error", "footfall"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
