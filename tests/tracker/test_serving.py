"""The tracker scripts as the server sends them ([T5]'s delivery point): compressed as the browser
asks, within the budgets as served, cached with an ETag."""

from __future__ import annotations

import gzip

import brotli
import httpx
import pytest

from footfall.tracker import script_source
from tests.support.servers import AppServer

BUDGETS = {"/js/script.js": 6_144, "/js/script.cookieless.js": 6_144}


@pytest.mark.parametrize("path", ["/js/script.js", "/js/script.cookieless.js"])
def test_scripts_go_out_compressed_within_their_budgets(server: AppServer, path: str) -> None:
    plain = script_source(path.removeprefix("/js/"))
    for accept, encoding, decode in (
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("br;q=0, gzip;q=0.8", "gzip", gzip.decompress),
    ):
        raw = httpx.get(server.url + path, headers={"accept-encoding": accept})
        assert raw.status_code == 200 and raw.headers["content-encoding"] == encoding, accept
        assert raw.content == plain  # httpx decodes it; the bytes on the wire are checked below
        with httpx.stream("GET", server.url + path, headers={"accept-encoding": accept}) as wire:
            sent = b"".join(wire.iter_raw())
        assert decode(sent) == plain and len(sent) <= BUDGETS[path], (accept, len(sent))
        assert raw.headers["vary"] == "Accept-Encoding" and "max-age" in raw.headers["cache-control"]
    identity = httpx.get(server.url + path, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in identity.headers and identity.content == plain


def test_an_etag_answers_304_and_differs_by_encoding(server: AppServer) -> None:
    first = httpx.get(server.url + "/js/script.js", headers={"accept-encoding": "gzip"})
    tag = first.headers["etag"]
    again = httpx.get(server.url + "/js/script.js", headers={"accept-encoding": "gzip", "if-none-match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    other = httpx.get(server.url + "/js/script.js", headers={"accept-encoding": "br", "if-none-match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag  # another encoding, another tag


def test_a_pixel_is_compressed_with_its_preset(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    answer = httpx.get(f"{server.url}/p/{site}.js", headers={"accept-encoding": "br"})
    assert answer.headers["content-encoding"] == "br" and site.encode() in answer.content
    missing = httpx.get(f"{server.url}/p/{'0' * 24}.js", headers={"accept-encoding": "br"})
    assert missing.status_code == 404
