"""Errors carry their dialect; each dialect renders its own envelope."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        dialect: str = "datafast",
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.dialect = dialect
        self.headers = headers or {}
        self.extra = extra or {}  # top-level fields beside the envelope (a 429's limit, remaining, reset)


def datafast_body(status: int, message: str) -> dict[str, Any]:
    return {"status": "error", "error": {"code": status, "message": message}}


def floqer_body(status: int, message: str) -> dict[str, Any]:
    """Floqer's flat envelope: `{"status": 401, "error": "Unauthorized", "message": "..."}`."""
    return {"status": status, "error": HTTPStatus(status).phrase, "message": message}


# PostMetric's API answers errors in the same envelope as DataFast's.
RENDERERS: dict[str, Callable[[int, str], dict[str, Any]]] = {
    "datafast": datafast_body,
    "postmetric": datafast_body,
    "floqer": floqer_body,
}


def render(exc: ApiError) -> JSONResponse:
    body = RENDERERS[exc.dialect](exc.status, exc.message) | exc.extra
    return JSONResponse(body, exc.status, headers=exc.headers)


POSTMETRIC_PATHS = ("/api/v1/visitor", "/api/v1/goal", "/api/v1/payment")


FLOQER_PREFIXES = ("/api/v1/sources", "/api/v1/workflows", "/api/v1/credits")


def dialect_for_path(path: str) -> str:
    """Which envelope a framework-level error (404 route, 405, validation) gets."""
    if path.rstrip("/") in POSTMETRIC_PATHS:
        return "postmetric"
    return "floqer" if path.startswith(FLOQER_PREFIXES) else "datafast"
