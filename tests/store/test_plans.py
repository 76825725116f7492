"""PostgreSQL's plans for the reads filtered analytics and the event writer make on large tables:
each must be servable by an index in the generic plan a prepared statement ends up with (psycopg
prepares a statement after five runs), or a month of rollups or every event is scanned. Sequential
scans are priced out so that a small test table cannot hide a missing or unusable index."""

from __future__ import annotations

import re

import pytest

from footfall.store.postgres import PostgresStore

READS = {
    # a month of one visit column (rollup_visits.read)
    "visit columns": (
        "SELECT data FROM rollup_columns WHERE site_num = $1 AND name = $2 AND slot >= $3 AND slot <= $4 ORDER BY slot",
        "(bigint, text, bigint, bigint)",
        "1, 'visit-roots', 0, 1800000000000",
        "rollup_columns_pkey",
    ),
    # the folded slots of a range (rollup_columns.covered_slots)
    "folded slots": (
        "SELECT slot FROM rollups WHERE site_num = $1 AND slot >= $2 AND slot <= $3 ORDER BY slot",
        "(bigint, bigint, bigint)",
        "1, 0, 1800000000000",
        "rollups_pkey",
    ),
    # the visitors of a range's payments, by key (analytics.load_payments)
    "payers": (
        "SELECT num, COALESCE(alias_of, num) AS root FROM visitors WHERE num = ANY($1::bigint[])",
        "(bigint[])",
        "'{1,2,3}'",
        "visitors_pkey",
    ),
    # a merged visit's events (identity/sessions.py), on every month partition
    "a visit's events": (
        "UPDATE events SET session_num = $1 WHERE visitor_num = $2 AND ts >= $3 AND ts <= $4 AND session_num = $5",
        "(bigint, bigint, bigint, bigint, bigint)",
        "2, 7, 1700000000000, 1900000000000, 1",  # a span over every month there is
        "visitor_num_ts_idx",  # each partition's copy of events_visitor_ts
    ),
}


@pytest.mark.parametrize("name", list(READS))
def test_the_generic_plan_uses_an_index(postgres_url: str, name: str) -> None:
    sql, types, args, index = READS[name]
    store = PostgresStore(postgres_url)
    try:

        def plan(tx: object) -> str:
            conn = tx.conn  # type: ignore[attr-defined]
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.execute("SET enable_seqscan = off")
            conn.execute(f"PREPARE q {types} AS {sql}")
            rows = conn.execute(f"EXPLAIN (COSTS OFF) EXECUTE q({args})")
            text = "\n".join(str(next(iter(r.values()))) for r in rows.fetchall())
            conn.execute("DEALLOCATE q")
            return text

        text = store.read(plan)
    finally:
        store.close()
    assert "Seq Scan" not in text, text
    assert re.search(rf"(Index Scan using|Index Only Scan using|Bitmap Index Scan on) \S*{index}", text), text
