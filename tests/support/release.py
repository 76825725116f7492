"""A released footfall, run from its git tag: the upgrade test's "previous release".

The release's `src/` is taken out of this repository's history with `git archive` and run with
the same interpreter and dependencies, `PYTHONPATH` putting it ahead of the installed footfall.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "v0.1.0"
# the tag's commit, used when a checkout came without tags (it is in every clone's history)
RELEASE_COMMIT = "67c019e723241df12e0811a25ce70011ee66644f"


def _ref() -> str:
    for ref in (f"{RELEASE}^{{commit}}", RELEASE_COMMIT):
        found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "-q", ref], capture_output=True)
        if found.returncode == 0:
            return ref
    raise RuntimeError(f"neither the tag {RELEASE} nor its commit {RELEASE_COMMIT} is in this clone's history")


def release_source(folder: Path) -> Path:
    """The release's `src/` folder, extracted under `folder`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", _ref(), "src"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def cli(src: Path | None, env: dict[str, str], *args: str) -> str:
    """`python -m footfall ARGS` of the release (`src`) or of this checkout (None); its output."""
    run_env = {**env, "PYTHONPATH": str(src)} if src else {k: v for k, v in env.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "footfall", *args], env=run_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def admin_key(text: str) -> str:
    found = re.search(r"ff_[A-Za-z0-9]{40}", text)
    assert found, text
    return found.group(0)


def tables(data_dir: Path, database_url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows (columns by name, rows sorted), read with a plain connection."""
    if database_url:
        with psycopg.connect(database_url) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' AND table_name NOT IN (SELECT inhrelid::regclass::text "
                "FROM pg_inherits)"
            )]  # fmt: skip
            return {name: _rows(conn.execute(f'SELECT * FROM "{name}"')) for name in names}
    import sqlite3

    conn = sqlite3.connect(data_dir / "footfall.db")
    try:
        found = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        names = [name for name in found if not name.startswith("sqlite_")]
        return {name: _rows(conn.execute(f'SELECT * FROM "{name}"')) for name in names}
    finally:
        conn.close()


def _rows(cursor: object) -> list[tuple[object, ...]]:
    columns = [d[0] for d in cursor.description]  # type: ignore[attr-defined]
    rows = [tuple(sorted(zip(columns, row, strict=True))) for row in cursor.fetchall()]  # type: ignore[attr-defined]
    return sorted(rows, key=repr)
