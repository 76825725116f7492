"""CSV that spreadsheets open safely: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return is a formula to Excel, LibreOffice and Google Sheets (OWASP's "CSV injection"), so it is
written with a leading `'`, which they show as text. Every CSV footfall writes goes through here."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_rows(
    out: IO[str], columns: list[str], rows: Iterable[Mapping[str, Any]], exact: frozenset[str] = frozenset()
) -> None:
    """`exact`: columns footfall itself made (ids, tokens: a token may start with `-`), written as they are."""
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([str(row.get(c) or "") if c in exact else cell(row.get(c)) for c in columns])
