"""Geo lookups in both MMDB layouts, built by the tests; no database means nulls."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from footfall.enrich.asn_ranges import prepare
from footfall.enrich.geo import NOWHERE, UNKNOWN_NETWORK, GeoLookup, NetworkOwner
from tests.support.geo_dbs import CHANGCHUN_IP, LONDON_IP, TOKYO_IP


def test_geoip2_city_layout(city_dbs: dict[str, Path]) -> None:
    geo = GeoLookup([city_dbs["geoip2"]])
    london = geo.lookup(LONDON_IP)
    assert (london.country_code, london.country, london.region, london.city) == (
        "GB",
        "United Kingdom",
        "England",
        "London",
    )
    assert (london.latitude, london.longitude, london.postal_code) == (51.5142, -0.0931, "EC2V")
    assert (london.timezone, london.accuracy_radius) == ("Europe/London", 10)
    tokyo = geo.lookup(TOKYO_IP)
    assert (tokyo.country_code, tokyo.city, tokyo.region) == ("JP", None, None)
    assert geo.lookup("192.0.2.1") == NOWHERE


def test_flat_layout_with_country_names_from_codes(city_dbs: dict[str, Path]) -> None:
    geo = GeoLookup([city_dbs["flat"]])
    loc = geo.lookup(CHANGCHUN_IP)
    assert (loc.country_code, loc.country, loc.region, loc.city) == ("CN", "China", "Jilin", "Changchun")
    assert loc.postal_code is None and loc.timezone == "Asia/Harbin" and loc.accuracy_radius is None


def test_first_database_with_a_record_wins(city_dbs: dict[str, Path]) -> None:
    geo = GeoLookup([city_dbs["flat"], city_dbs["geoip2"]])
    assert geo.lookup(TOKYO_IP).country_code == "JP"
    assert geo.lookup(CHANGCHUN_IP).city == "Changchun"


def test_without_a_database_everything_is_null(tmp_path: Path) -> None:
    geo = GeoLookup([tmp_path / "missing.mmdb"])
    assert geo.lookup(LONDON_IP) == NOWHERE and geo.lookup("not an ip") == NOWHERE and geo.lookup(None) == NOWHERE


def test_geolite2_asn_layout_names_the_network_owner(city_dbs: dict[str, Path]) -> None:
    geo = GeoLookup([city_dbs["geoip2"]], [city_dbs["asn"]])
    assert geo.network(LONDON_IP) == NetworkOwner(20712, "Andrews & Arnold Ltd", "81.2.69.0/24")
    assert geo.network(TOKYO_IP) == NetworkOwner(2914, "NTT America, Inc.", "2001:218::/32")
    assert geo.network(CHANGCHUN_IP) == UNKNOWN_NETWORK  # not in the database
    assert geo.network("not an ip") == UNKNOWN_NETWORK and geo.network(None) == UNKNOWN_NETWORK
    assert GeoLookup([city_dbs["geoip2"]]).network(LONDON_IP) == UNKNOWN_NETWORK  # no ASN database
    geo.close()


def test_asn_range_table_from_the_ip_location_db_csv_layout(tmp_path: Path) -> None:
    """The numeric CSV layout of @ip-location-db/asn: start,end,asn,organisation."""
    v4 = tmp_path / "asn-ipv4-num.csv"
    v6 = tmp_path / "asn-ipv6-num.csv"
    v4.write_text('16777216,16777471,13335,"Cloudflare, Inc."\n134744064,134744319,15169,Google LLC\n')
    start = int(ipaddress.ip_address("2001:db8::"))
    v6.write_text(f"{start},{start + 2**80 - 1},64500,Example Networks\n")
    out = tmp_path / "asn.ranges"
    assert prepare(v4, v6, out) == (2, 1)
    geo = GeoLookup([], [out])
    assert geo.network("1.0.0.1") == NetworkOwner(13335, "Cloudflare, Inc.", "1.0.0.0/24")
    assert geo.network("8.8.8.8") == NetworkOwner(15169, "Google LLC", "8.8.8.0/24")
    assert geo.network("8.8.9.1") == UNKNOWN_NETWORK and geo.network("0.0.0.1") == UNKNOWN_NETWORK
    assert geo.network("2001:db8::1") == NetworkOwner(64500, "Example Networks", "2001:db8::/48")
    assert geo.network("2001:db9::1") == UNKNOWN_NETWORK and geo.network("not an ip") == UNKNOWN_NETWORK
    (tmp_path / "bad.ranges").write_text("nope")
    with pytest.raises(ValueError, match="footfall geo install"):
        GeoLookup([], [tmp_path / "bad.ranges"])
