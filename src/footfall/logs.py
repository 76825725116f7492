"""Logging that never writes a secret: uvicorn's access log shows each request's path and query,
and Fingerprint's clients may send their key as `?api_key=` (or the legacy `?token=`), a
magic link carries `?ff_t=`; those values are replaced by `***` before the line is written."""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"(?i)([?&](?:api_key|token|ff_t|key|secret|password)=)[^&\s]*")


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1***", text)


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
