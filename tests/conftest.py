"""Fixtures: real SQLite and PostgreSQL stores, real servers on loopback, real Chromium.

Tests that need PostgreSQL or Chromium skip with a visible notice when those are
missing; with FOOTFALL_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from footfall.settings import Settings
from tests.support import geo_dbs
from tests.support.servers import AppServer

PG_ADMIN_URL = os.environ.get("FOOTFALL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHROMIUM = os.environ.get("FOOTFALL_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("FOOTFALL_REQUIRE_SERVICES") == "1"
BACKENDS = ("sqlite", "postgres")


def missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} is required (FOOTFALL_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"NOTICE: {what} not available; skipped")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    if not _pg_available():
        lines.append(f"NOTICE: PostgreSQL at {PG_ADMIN_URL} is unreachable: PostgreSQL tests will be skipped")
    if not Path(CHROMIUM).exists():
        lines.append(f"NOTICE: no Chromium at {CHROMIUM}: browser tests will be skipped")
    return lines


# The longest files (minutes each: SIGKILL loops, model training, browser loops) start first, so
# that the parallel workers (pyproject.toml: one file per worker at a time) do not end on them.
SLOW_FIRST = (
    "tests/test_deliveries_chaos.py",
    "tests/test_durability.py",
    "tests/scoring/test_predictions.py",
    "tests/tracker/test_automation.py",
    "tests/scoring/test_site_scoring.py",
    "tests/enrich/test_bots.py",
    "tests/enrich/test_user_agent.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def first(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=first)  # stable: every other test keeps its order


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    if not _pg_available():
        missing(f"PostgreSQL at {PG_ADMIN_URL}")
    name = "footfall_test_" + secrets.token_hex(6)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh store of the parametrised backend."""
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    return Settings.from_env(  # tests run the scoring job themselves (app.state.scoring), not in a process
        {},
        data_dir=str(tmp_path / "data"),
        database_url=url,
        trusted_proxies=geo_dbs.TRUSTED,
        commit_window_ms=1.0,
        scoring_interval_seconds=0,
        outbound_allow=("127.0.0.0/8",),  # workflow receivers run on loopback (tests/test_outbound.py: the default)
    )


@pytest.fixture(scope="session")
def city_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small city MMDBs in both layouts and an ASN MMDB, built by the tests themselves."""
    folder = tmp_path_factory.mktemp("geo")
    return {
        "geoip2": geo_dbs.write_geoip2_city(folder / "geoip2-city.mmdb"),
        "flat": geo_dbs.write_flat_city(folder / "flat-city.mmdb"),
        "asn": geo_dbs.write_geolite2_asn(folder / "geolite2-asn.mmdb"),
    }


@pytest.fixture
def server(settings: Settings, city_dbs: dict[str, Path]) -> Iterator[AppServer]:
    """The real app under uvicorn on a loopback port, with a clock the test moves."""
    with AppServer(settings.replace(geoip_city=str(city_dbs["geoip2"]), geoip_asn=str(city_dbs["asn"]))) as srv:
        yield srv


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        missing(f"Chromium at {CHROMIUM}")
    return CHROMIUM
