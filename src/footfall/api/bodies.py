"""Request bodies of the keyed APIs: JSON decoded by msgspec (which refuses NaN, Infinity, lone
surrogates and numbers past a double), then bounded (footfall.bounds: 64-bit integers, no NUL,
bounded nesting), refused in the API's own envelope with the field named."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from footfall.api.errors import ApiError
from footfall.bounds import OutOfBounds, check_json

T = TypeVar("T")


async def json_value(request: Request, dialect: str = "datafast") -> Any:
    try:
        value = msgspec.json.decode(await request.body())
        check_json(value, "body")
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}", dialect=dialect) from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply", dialect=dialect) from None
    except OutOfBounds as exc:
        raise ApiError(400, str(exc), dialect=dialect) from None
    return value


async def json_object(request: Request, dialect: str = "datafast") -> dict[str, Any]:
    body = await json_value(request, dialect)
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object", dialect=dialect)
    return body


async def json_as(request: Request, kind: type[T], problem: str, dialect: str = "datafast") -> T:
    """The body as `kind` (a msgspec Struct); `problem` says what was expected."""
    try:
        return msgspec.convert(await json_value(request, dialect), type=kind)
    except msgspec.ValidationError as exc:
        raise ApiError(400, f"{problem}: {exc}", dialect=dialect) from None
