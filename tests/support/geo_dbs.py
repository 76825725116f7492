"""Small MMDB files in the GeoIP2 City, GeoLite2 ASN and flat @ip-location-db layouts."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

TRUSTED = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
LONDON_IP = "81.2.69.160"
TOKYO_IP = "2001:218::1"
CHANGCHUN_IP = "175.16.199.10"

GEOIP2_RECORDS = {
    "81.2.69.0/24": {
        "city": {"geoname_id": 2643743, "names": {"en": "London", "de": "London"}},
        "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
        "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
        "location": {"latitude": 51.5142, "longitude": -0.0931, "time_zone": "Europe/London", "accuracy_radius": 10},
        "postal": {"code": "EC2V"},
    },
    "2001:218::/32": {
        "country": {"iso_code": "JP", "names": {"en": "Japan"}},
        "location": {"latitude": 35.68536, "longitude": 139.75309, "time_zone": "Asia/Tokyo", "accuracy_radius": 100},
    },
}
FLAT_RECORDS = {
    "175.16.199.0/24": {
        "city": "Changchun",
        "country_code": "CN",
        "state1": "Jilin",
        "state2": "",
        "postcode": "",
        "latitude": 43.88,
        "longitude": 125.3228,
        "timezone": "Asia/Harbin",
    },
    "81.2.69.0/24": {
        "city": "London",
        "country_code": "GB",
        "state1": "England",
        "state2": "",
        "postcode": "EC2V",
        "latitude": 51.5142,
        "longitude": -0.0931,
        "timezone": "Europe/London",
    },
}


def _write(path: Path, records: dict[str, dict[str, object]], db_type: str) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=db_type)
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


ASN_RECORDS = {
    "81.2.69.0/24": {"autonomous_system_number": 20712, "autonomous_system_organization": "Andrews & Arnold Ltd"},
    "2001:218::/32": {"autonomous_system_number": 2914, "autonomous_system_organization": "NTT America, Inc."},
    "34.64.0.0/10": {"autonomous_system_number": 396982, "autonomous_system_organization": "GOOGLE-CLOUD-PLATFORM"},
    "18.0.0.0/8": {
        "autonomous_system_number": 3,
        "autonomous_system_organization": "Massachusetts Institute of Technology",
    },
    "50.128.0.0/9": {
        "autonomous_system_number": 7922,
        "autonomous_system_organization": "Comcast Cable Communications, Inc.",
    },
    "49.228.0.0/16": {
        "autonomous_system_number": 23969,
        "autonomous_system_organization": "TOT Public Company Limited",
    },
    "194.81.0.0/16": {"autonomous_system_number": 786, "autonomous_system_organization": "Jisc Services Limited"},
}
CLOUD_IP = "34.64.1.2"  # a hosting network (Google Cloud's AS396982)
MIT_IP = "18.7.22.69"  # an organisation's own network (AS3)
ISP_IP = "50.128.1.1"  # an access provider (Comcast, AS7922)
TELECOM_IP = "49.228.1.1"  # a telecom whose name carries a legal form only ("TOT Public Company Limited")
NREN_IP = "194.81.1.1"  # a research and education network serving many institutions (Jisc)


def write_geolite2_asn(path: Path) -> Path:
    return _write(path, ASN_RECORDS, "GeoLite2-ASN")


def write_geoip2_city(path: Path) -> Path:
    return _write(path, GEOIP2_RECORDS, "GeoIP2-City")


def write_flat_city(path: Path) -> Path:
    return _write(path, FLAT_RECORDS, "geolite2-city")
