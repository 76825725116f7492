"""Lead-score quality on a real shop ([T4]): RetailRocket's clickstream imported through
`footfall import`, then `footfall score evaluate` on the store, on SQLite and PostgreSQL.

    python bench/lead_scores.py [--backends sqlite,postgres] [--events 0 (all)]

1. The development part of RetailRocket (../shared/data/retailrocket/events-dev.csv.gz) becomes
   footfall's JSONL in a temporary directory, as bench/import.py makes it: a `view` is a page view
   of `/item/<id>`, an `addtocart` the goal `add_to_cart`, a `transaction` the goal `purchase`,
   which the site counts as its conversion.
2. Per backend: a fresh store, `footfall import` (as a user runs it), then `footfall score evaluate
   --site S --train-before 2015-07-15 --score-from 2015-08-01`: the live model trained on the
   visitors first seen before 15 July knowing what happened before 1 August, scoring those first
   seen from 1 August at a random moment before converting, beside logistic regression on the same
   rows and the rule "the most recent goal first", with bootstrap intervals (docs/scoring.md).
   Its output is printed as it is, with the wall time and peak memory of each command.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import add_site  # noqa: E402

from bench.ingest import drop_database, fresh_database  # noqa: E402
from footfall import accounts  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
assert _spec and _spec.loader
bench_import = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_import)

TRAIN_BEFORE, SCORE_FROM = "2015-07-15", "2015-08-01"


def footfall(settings: Settings, *args: str) -> tuple[str, float, float]:
    """A `footfall` command on the store: its output, wall seconds and peak memory (GB)."""
    env = {**os.environ, "FOOTFALL_DATA_DIR": str(settings.data_path)}
    if settings.uses_postgres:
        env["FOOTFALL_DATABASE_URL"] = settings.database_url
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "footfall", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"footfall {' '.join(args)}: {done.stdout}{done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    return done.stdout, time.perf_counter() - started, peak


def bench_backend(backend: str, jsonl: Path, workdir: Path) -> None:
    settings = fresh_database(backend, workdir / backend)
    try:
        store = open_store(settings)
        site, _ = add_site(store, bench_import.DOMAIN, int(time.time() * 1000), settings={})
        store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["purchase"]}))
        store.close()
        out, seconds, _ = footfall(settings, "import", str(jsonl), "--site", site, "--quiet")
        print(f"\n## {backend}\n\nimport: {seconds:.0f} s. {out.strip()}", flush=True)
        command = ("score", "evaluate", "--site", site, "--train-before", TRAIN_BEFORE, "--score-from", SCORE_FROM)
        out, seconds, peak = footfall(settings, *command)
        print(f"`footfall {' '.join(command[:2])}`: {seconds:.0f} s, peak memory {peak:.1f} GB\n\n{out}", flush=True)
    finally:
        drop_database(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--events", type=int, default=0, help="the first N events (0: all 1.9 million)")
    args = parser.parse_args()
    if not bench_import.DATA.exists():
        sys.exit(f"{bench_import.DATA} is missing (../shared/data/retailrocket)")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        jsonl = workdir / "retailrocket.jsonl"
        total, _ = bench_import.convert(args.events, jsonl)
        print(f"RetailRocket (development part): {total:,} events")
        for backend in args.backends.split(","):
            bench_backend(backend, jsonl, workdir)


if __name__ == "__main__":
    main()
