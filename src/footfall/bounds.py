"""What a client may hand footfall, bounded where it enters (docs/reliability.md).

Every store and every hand-off keeps integers in 64 bits (SQLite's INTEGER, PostgreSQL's
bigint, msgpack to the writer process), finite floats, and text without NUL (PostgreSQL refuses
it). A JSON body is otherwise free, so a value that no store can keep is refused at the edge, in
the API's own envelope, before anything is written: never discovered half way through a write.
"""

from __future__ import annotations

import math
from typing import Any

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 20  # nesting levels inside one client-sent object
# A payment's amount in major units: more than any real payment (a trillion Indonesian rupiah is about
# 60 million dollars), and revenue summed over millions of them stays finite and exact to the cent.
MAX_AMOUNT = 1e12


class OutOfBounds(ValueError):
    """A client value no store can keep; the message names the field."""


def check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise OutOfBounds(f"{where}: contains a NUL character")


def check_int(value: int, where: str) -> None:
    if not INT_MIN <= value <= INT_MAX:
        raise OutOfBounds(f"{where}: integers must be between -2^63 and 2^63-1")


def check_amount(value: float, where: str = "amount") -> None:
    if not math.isfinite(value) or abs(value) > MAX_AMOUNT:
        raise OutOfBounds(f"{where}: at most {MAX_AMOUNT:.0e} in major units")


def check_json(value: Any, where: str) -> None:
    """Walks a decoded JSON value; raises `OutOfBounds` naming the first value no store can keep."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise OutOfBounds(f"{path}: numbers must be finite")
        elif isinstance(item, int):
            check_int(item, path)
        elif depth >= MAX_DEPTH:
            raise OutOfBounds(f"{path}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(item, dict):
            for key, inner in item.items():
                check_text(str(key), f"{path} (a key)")
                stack.append((inner, f"{path}.{key}", depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((inner, f"{path}[{i}]", depth + 1) for i, inner in enumerate(item))
