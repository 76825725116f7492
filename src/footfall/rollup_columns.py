"""The rollups' columns (rollups.py): a slot's (root, code) pairs per breakdown, its steps with
their times, and the site's dictionary of codes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from footfall.rollup_keys import NAMES, SLOT_MS
from footfall.store.base import Tx


def column(roots: list[int], codes: list[int]) -> bytes:
    """A slot's column: the roots, then the codes, as little-endian uint32 arrays."""
    return np.array(roots, dtype="<u4").tobytes() + np.array(codes, dtype="<u4").tobytes()


def uncolumn(data: bytes) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    both = np.frombuffer(bytes(data), dtype="<u4")
    half = len(both) // 2
    return both[:half], both[half:]


class Codes:
    """A site's dictionary of breakdown keys: key text <-> a small integer, per breakdown."""

    def __init__(self, tx: Tx, site_num: int, names: Iterable[str] = NAMES) -> None:
        self.tx, self.site_num = tx, site_num
        self.code: dict[tuple[str, str], int] = {}
        self.top: dict[str, int] = {}
        self.new: list[tuple[str, str, int]] = []
        names = list(names)
        for r in tx.all(
            f"SELECT name, value, code FROM rollup_codes WHERE site_num = ? AND name IN ({','.join('?' * len(names))})",
            (site_num, *names),
        ):
            self.code[(r["name"], r["value"])] = r["code"]
            self.top[r["name"]] = max(self.top.get(r["name"], 0), r["code"])

    def encode(self, name: str, keys: list[str], grow: bool) -> list[int]:
        """The keys' codes; a key not known yet gets the next code (kept by `save` when `grow`)."""
        out = []
        for key in keys:
            code = self.code.get((name, key))
            if code is None:
                code = self.top[name] = self.top.get(name, 0) + 1
                self.code[(name, key)] = code
                if grow:
                    self.new.append((name, key, code))
            out.append(code)
        return out

    def keys(self, name: str) -> dict[int, str]:
        return {code: key for (n, key), code in self.code.items() if n == name}

    def save(self) -> None:
        self.tx.executemany(
            "INSERT INTO rollup_codes (site_num, name, value, code) VALUES (?, ?, ?, ?)",
            [(self.site_num, n, k, c) for n, k, c in self.new],
        )
        self.new = []


STEP = np.dtype([("root", "<u4"), ("code", "<u4"), ("time", "<i8")])  # one page view or goal


def step_column(roots: list[int], codes: list[int], times: list[int]) -> bytes:
    """A slot's steps: (root, code, time in ms) records, little-endian."""
    return steps_array(roots, codes, times).tobytes()


def steps_array(roots: list[int], codes: list[int], times: list[int]) -> np.ndarray[Any, Any]:
    out = np.empty(len(roots), dtype=STEP)
    out["root"], out["code"], out["time"] = roots, codes, times
    return out


def unstep_column(data: bytes) -> np.ndarray[Any, Any]:
    return np.frombuffer(bytes(data), dtype=STEP)


def covered_slots(tx: Tx, site_num: int, lo: int, hi: int) -> list[int]:
    """The folded slots that lie whole in [lo, hi), in order."""
    return [
        r["slot"]
        for r in tx.all(
            "SELECT slot FROM rollups WHERE site_num = ? AND slot >= ? AND slot <= ? ORDER BY slot",
            (site_num, lo, hi - SLOT_MS),
        )
    ]


def gaps(lo: int, hi: int, covered: list[int]) -> list[tuple[int, int]]:
    """The parts of [lo, hi) outside the covered slots (sorted), as half-open intervals."""
    found, at = [], lo
    for slot in covered:
        if slot > at:
            found.append((at, slot))
        at = max(at, slot + SLOT_MS)
    if at < hi:
        found.append((at, hi))
    return found
