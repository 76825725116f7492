"""Network owners from the @ip-location-db/asn CSVs, prepared into a compact range table.

`footfall geo install` fetches the npm package @ip-location-db/asn (IP ranges with their AS number
and organisation, from RouteViews, DB-IP and the RIRs; see its licence files) and `prepare`s its
numeric CSVs (`start,end,asn,organisation`, one range per line, addresses as integers) into
DATA_DIR/geo/asn.ranges: sorted range starts, ends, AS numbers and organisation indexes as packed
little-endian integers after a JSON header, then the organisation names. Loading it is a few
reads; a lookup is a binary search. A GeoLite2-ASN-layout MMDB does the same job
(FOOTFALL_GEOIP_ASN) and is looked up first.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
import json
import sys
from array import array
from pathlib import Path

MAGIC = b"footfall-asn-ranges 1\n"


def _read_csv(path: Path) -> list[tuple[int, int, int, str]]:
    rows = []
    with path.open(newline="", encoding="utf-8") as f:
        for record in csv.reader(f):
            if len(record) >= 3 and record[0].isdigit():
                rows.append((int(record[0]), int(record[1]), int(record[2]), record[3] if len(record) > 3 else ""))
    rows.sort()
    return rows


def prepare(ipv4_csv: Path, ipv6_csv: Path, out: Path) -> tuple[int, int]:
    """Writes the range table; answers (IPv4 ranges, IPv6 ranges)."""
    v4, v6 = _read_csv(ipv4_csv), _read_csv(ipv6_csv)
    orgs: dict[str, int] = {}
    for _, _, _, org in v4 + v6:
        orgs.setdefault(org, len(orgs))
    mask = (1 << 64) - 1
    sections = [
        array("I", (r[0] for r in v4)),
        array("I", (r[1] for r in v4)),
        array("I", (r[2] for r in v4)),
        array("I", (orgs[r[3]] for r in v4)),
        array("Q", (r[0] >> 64 for r in v6)),
        array("Q", (r[0] & mask for r in v6)),
        array("Q", (r[1] >> 64 for r in v6)),
        array("Q", (r[1] & mask for r in v6)),
        array("I", (r[2] for r in v6)),
        array("I", (orgs[r[3]] for r in v6)),
    ]
    header = json.dumps({"v4": len(v4), "v6": len(v6), "orgs": len(orgs)}).encode() + b"\n"
    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as f:
        f.write(MAGIC + header)
        for section in sections:
            f.write(_little(section).tobytes())
        f.write("\n".join(orgs).encode())
    tmp.replace(out)
    return len(v4), len(v6)


def _little(a: array) -> array:  # type: ignore[type-arg]
    """The array in little-endian order, the file's."""
    if sys.byteorder == "big":
        a = array(a.typecode, a)
        a.byteswap()
    return a


class RangeTable:
    """A prepared table, loaded whole (about 20 MB for the full package)."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            raise ValueError(f"{path} is not a footfall ASN range table (run `footfall geo install`)")
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : end])
        n4, n6 = header["v4"], header["v6"]
        offset = end + 1

        def take(typecode: str, n: int) -> array:  # type: ignore[type-arg]
            nonlocal offset
            a = array(typecode)
            a.frombytes(data[offset : offset + n * a.itemsize])
            offset += n * a.itemsize
            return _little(a)

        self.v4_start, self.v4_end, self.v4_asn, self.v4_org = (take("I", n4) for _ in range(4))
        hi, lo, end_hi, end_lo = (take("Q", n6) for _ in range(4))
        self.v6_start = [(h << 64) | low for h, low in zip(hi, lo, strict=True)]
        self.v6_end = [(h << 64) | low for h, low in zip(end_hi, end_lo, strict=True)]
        self.v6_asn, self.v6_org = take("I", n6), take("I", n6)
        self.orgs = data[offset:].decode().split("\n")

    def find(self, ip: str) -> tuple[int, str | None, str] | None:
        """(AS number, organisation, the range's first network containing `ip`) or None."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        value = int(address)
        v4 = address.version == 4
        starts, ends = (self.v4_start, self.v4_end) if v4 else (self.v6_start, self.v6_end)
        i = bisect.bisect_right(starts, value) - 1
        if i < 0 or value > ends[i]:
            return None
        asn, org = (self.v4_asn[i], self.v4_org[i]) if v4 else (self.v6_asn[i], self.v6_org[i])
        make = ipaddress.IPv4Address if v4 else ipaddress.IPv6Address
        first, last = make(starts[i]), make(ends[i])
        network = next(n for n in ipaddress.summarize_address_range(first, last) if address in n)
        return asn, (self.orgs[org] or None), str(network)
