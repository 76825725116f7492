"""The committed tracker build is current and within its size budget; the server serves it."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from footfall.tracker import PRESET_SLOT, script_source
from tests.conftest import missing
from tests.support.servers import AppServer

TRACKER = Path(__file__).resolve().parents[2] / "tracker"
BUDGET_CORE = 4096  # gzipped bytes without device signals and form capture: the core (issue F2)
BUDGET_FULL = 6144  # gzipped bytes of the served script, device signals included (issue F3)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm (to build the tracker)")
    if not (TRACKER / "node_modules" / "esbuild").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TRACKER, check=True, capture_output=True)
    return TRACKER / "node_modules"


def test_committed_script_is_the_build_of_tracker_src(node_modules: Path, tmp_path: Path) -> None:
    out = tmp_path / "script.js"
    subprocess.run(["node", "build.mjs", f"--outfile={out}"], cwd=TRACKER, check=True, capture_output=True)
    assert out.read_bytes() == script_source(), "run `npm run build` in tracker/ and commit the result"
    cookieless = tmp_path / "script.cookieless.js"
    subprocess.run(["node", "build.mjs", "--cookieless", f"--outfile={cookieless}"], cwd=TRACKER, check=True,
                   capture_output=True)  # fmt: skip
    assert cookieless.read_bytes() == script_source("script.cookieless.js"), "run `npm run build` in tracker/"
    body = cookieless.read_bytes()
    assert b"document.cookie=" not in body.replace(b" ", b"") and b"setItem" not in body  # it writes nothing
    assert b"OfflineAudioContext" not in body and len(gzip.compress(body, 9)) <= BUDGET_CORE + 256


def test_script_fits_the_size_budgets(node_modules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    core = tmp_path / "core.js"
    subprocess.run(["node", "build.mjs", "--core", f"--outfile={core}"], cwd=TRACKER, check=True, capture_output=True)
    full, core_bytes = script_source(), core.read_bytes()
    sizes = {name: len(gzip.compress(body, 9)) for name, body in (("full", full), ("core", core_bytes))}
    with capsys.disabled():
        print(
            f"\ntracker: {len(full):,} bytes, {sizes['full']:,} gzipped (budget {BUDGET_FULL:,}); "
            f"without device signals {sizes['core']:,} gzipped (budget {BUDGET_CORE:,})"
        )
    assert sizes["full"] <= BUDGET_FULL and sizes["core"] <= BUDGET_CORE
    assert b"deviceSignals" not in core_bytes and b"OfflineAudioContext" not in core_bytes  # really left out
    assert b"OfflineAudioContext" in full
    assert full.count(PRESET_SLOT) == 1  # the slot /p/{pixel_id}.js fills


def test_script_and_pixel_urls(server: AppServer) -> None:
    site, _ = server.add_site("shop.example.com", allowed_hostnames=("example.org",))
    cookieless = httpx.get(server.url + "/js/script.cookieless.js")
    assert cookieless.status_code == 200 and cookieless.content == script_source("script.cookieless.js")
    plain = httpx.get(server.url + "/js/script.js")
    assert plain.status_code == 200 and plain.content == script_source()
    assert plain.headers["content-type"].startswith("application/javascript")
    pixel = httpx.get(f"{server.url}/p/{site}.js")
    assert pixel.status_code == 200 and PRESET_SLOT not in pixel.content
    preset = {"website-id": site, "domain": "shop.example.com", "allowed-hostnames": "example.org"}
    assert json.dumps(json.dumps(preset, separators=(",", ":"))).encode() in pixel.content
    assert httpx.get(server.url + "/p/000000000000000000000000.js").status_code == 404
