"""The data directory: private to the user who runs footfall, and one server's at a time on SQLite.

It holds the SQLite database with the signing secret, payment-provider secrets and workflow
headers, so the directory is 0700 and the database files 0600 (tightened at start when an earlier
version left them wider). `footfall serve` on SQLite holds an exclusive lock on `footfall.lock`
there: a second server on the same directory stops at once with a clear message instead of
writing beside the first (docs/deploy.md: SQLite serves one instance; PostgreSQL serves several).
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path
from typing import IO

DIR_MODE, FILE_MODE = 0o700, 0o600


class AlreadyRunning(RuntimeError):
    """Another footfall server holds this data directory."""


def private_dir(path: Path) -> Path:
    """`path`, made if missing, readable by its owner only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` (made empty if missing) readable and writable by its owner only; SQLite gives its WAL
    and shared-memory files the mode of the database file."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(FILE_MODE)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists() and stat.S_IMODE(companion.stat().st_mode) & 0o077:
            companion.chmod(FILE_MODE)
    return path


def lock_instance(data_dir: Path) -> IO[str]:
    """An exclusive lock on the data directory, held while the returned file stays open."""
    handle = open(private_file(private_dir(data_dir) / "footfall.lock"), "r+")  # noqa: SIM115 - held open
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = handle.read().strip() or "another process"
        handle.close()
        raise AlreadyRunning(
            f"another footfall server (pid {holder}) is running on {data_dir}: SQLite serves one instance. "
            "Stop it first, or run several instances on PostgreSQL (FOOTFALL_DATABASE_URL, docs/deploy.md)."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
