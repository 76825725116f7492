"""Settings: the only reader of the environment, every setting documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from footfall.settings import SETTINGS, Settings, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_default_and_help() -> None:
    for s in SETTINGS:
        assert s.help.strip() and s.env.startswith("FOOTFALL_")


def test_readme_configuration_table_is_complete_and_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert markdown_table() in readme, "README table is stale: paste `footfall settings --markdown`"


def test_environment_is_parsed_and_bad_values_name_the_variable() -> None:
    s = Settings.from_env(
        {
            "FOOTFALL_PORT": "9000",
            "FOOTFALL_BENCHMARK_ROUTES": "yes",
            "FOOTFALL_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "FOOTFALL_HOSTING_ASNS": "AS64500, 64501",
        }
    )
    assert s.port == 9000 and s.benchmark_routes is True and len(s.trusted_proxies) == 2
    assert s.hosting_asns == (64500, 64501) and Settings.from_env({}).hosting_asns == ()
    assert Settings.from_env({}).data_dir == "./footfall-data"
    with pytest.raises(ValueError, match="FOOTFALL_PORT"):
        Settings.from_env({"FOOTFALL_PORT": "many"})
    with pytest.raises(ValueError, match="FOOTFALL_HOSTING_ASNS"):
        Settings.from_env({"FOOTFALL_HOSTING_ASNS": "amazon"})


def test_no_other_module_reads_the_environment() -> None:
    offenders = [
        p.name
        for p in (ROOT / "src" / "footfall").rglob("*.py")
        if p.name != "settings.py" and re.search(r"os\.environ|getenv", p.read_text())
    ]
    assert offenders == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"<!-- test-command -->\s*```sh\n(.+?)\n```", readme, re.S)
    assert command, "README lacks the marked test command"
    assert command.group(1).strip() in (ROOT / ".ci" / "run").read_text()
