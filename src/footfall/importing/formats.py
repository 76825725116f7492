"""What `footfall import` reads, line by line, as footfall's wire events with their own time
(docs/import.md has each mapping). A reader yields `(line number, event dict)` or
`(line number, Skip)`; nothing is held beyond one line.

- `jsonl`: footfall's own format, one event a line: the fields of `POST /api/events/batch` with
  `timestamp` (and `ip`, `userAgent`, `ffKnown`); `websiteId` may be left out.
- `csv`: the same as columns: `timestamp, type, href, visitorId, referrer, title, ip, userAgent,
  eventName, userId, email, language, timezone, screenWidth, screenHeight, browser, os,
  deviceType, country, region, city` (only `timestamp` and `href` or `path` are required).
- `log`: web server access logs, combined or common format (nginx's and Apache's defaults). A
  line is a page view when it is a `GET` answered 2xx or 304 for a path that is not a static file
  (`STATIC`) or a robot's (`robots.txt`, `/.well-known/`, sitemaps); `--static` adds extensions.
  The visitor is its address and user agent (as cookieless tracking: one browser on one network).
- `umami`: Umami's data export (`website_event` as CSV): page views (`event_type` 1) and custom
  events (2, `event_name`); Umami's `session_id` is the visitor; its browser, OS, device and
  location go in `ffKnown`, since the export keeps no user agent or address.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode

import msgspec

FORMATS = ("jsonl", "csv", "log", "umami")
STATIC = frozenset(
    {
        "css",
        "js",
        "mjs",
        "map",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "ico",
        "webp",
        "avif",
        "bmp",
        "tif",
        "tiff",
        "woff",
        "woff2",
        "ttf",
        "otf",
        "eot",
        "mp4",
        "webm",
        "mp3",
        "ogg",
        "wav",
        "zip",
        "gz",
        "tgz",
        "bz2",
        "7z",
        "rar",
        "pdf",
        "xml",
        "txt",
        "json",
        "rss",
        "atom",
        "csv",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "apk",
        "dmg",
        "exe",
        "iso",
        "wasm",
    }
)
ROBOT_PATHS = ("/robots.txt", "/.well-known/", "/sitemap", "/favicon", "/apple-touch-icon", "/ads.txt", "/wp-cron")
LOG_LINE = re.compile(
    r'^(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)(?: [^"]*)?" '
    r'(?P<status>\d{3}) \S+(?: "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)")?'
)
CSV_FIELDS = ("timestamp", "type", "href", "path", "visitorId", "referrer", "title", "ip", "userAgent", "eventName",
              "userId", "email", "language", "timezone", "screenWidth", "screenHeight")  # fmt: skip
KNOWN_FIELDS = ("browser", "os", "deviceType", "country", "region", "city")
UMAMI_BROWSERS = {  # Umami's browser keys, as ua-parser names them elsewhere in footfall
    "chrome": "Chrome",
    "crios": "Chrome Mobile iOS",
    "firefox": "Firefox",
    "fxios": "Firefox iOS",
    "safari": "Safari",
    "ios": "Mobile Safari",
    "ios-webview": "Mobile Safari UI/WKWebView",
    "edge-chromium": "Edge",
    "edge": "Edge",
    "edge-ios": "Edge Mobile",
    "opera": "Opera",
    "samsung": "Samsung Internet",
    "yandexbrowser": "Yandex Browser",
    "chromium-webview": "Chrome Mobile WebView",
    "android": "Android",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "silk": "Amazon Silk",
}


@dataclass(frozen=True)
class Skip:
    reason: str  # short, counted: "malformed", "not a page view", ...
    detail: str = ""  # what was wrong with this line


Item = tuple[int, dict[str, Any] | Skip]
_decode = msgspec.json.Decoder().decode


def read(fmt: str, lines: Iterable[str], domain: str, static: frozenset[str] = STATIC) -> Iterator[Item]:
    if fmt == "jsonl":
        return _jsonl(lines)
    if fmt == "csv":
        return _csv(lines, domain)
    if fmt == "log":
        return _log(lines, domain, static)
    if fmt == "umami":
        return _umami(lines, domain)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def _jsonl(lines: Iterable[str]) -> Iterator[Item]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = _decode(line)
        except msgspec.DecodeError as exc:
            yield number, Skip("malformed", f"not JSON: {exc}")
            continue
        yield number, value if isinstance(value, dict) else Skip("malformed", "not a JSON object")


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV rows with their line number (the header is line 1; quoted newlines are not supported)."""
    iterator = iter(lines)
    header = next(csv.reader([next(iterator, "")]), [])
    for number, line in enumerate(iterator, 2):
        if line.strip():
            cells = next(csv.reader([line]), [])
            yield number, dict(zip(header, cells, strict=False))


def _known(row: dict[str, str]) -> dict[str, str] | None:
    known = {k: row[k] for k in KNOWN_FIELDS if row.get(k)}
    return known or None


def _csv(lines: Iterable[str], domain: str) -> Iterator[Item]:
    for number, row in _rows(lines):
        if not row.get("timestamp") or not (row.get("href") or row.get("path")):
            yield number, Skip("malformed", "timestamp and href (or path) are required")
            continue
        event: dict[str, Any] = {k: row[k] for k in CSV_FIELDS if row.get(k) and k not in ("path", "eventName")}
        event.setdefault("href", f"https://{domain}{row.get('path') or '/'}")
        for size in ("screenWidth", "screenHeight"):
            if size in event:
                event[size] = int(event[size]) if event[size].isdigit() else None
        if row.get("eventName"):
            event["type"], event["extraData"] = event.get("type") or "custom", {"eventName": row["eventName"]}
        if row.get("userId") or row.get("email"):
            extra = event.setdefault("extraData", {})
            extra.update({k: v for k, v in (("user_id", row.get("userId")), ("email", row.get("email"))) if v})
        event.pop("userId", None), event.pop("email", None)
        if (known := _known(row)) is not None:
            event["ffKnown"] = known
        yield number, event


def _log(lines: Iterable[str], domain: str, static: frozenset[str]) -> Iterator[Item]:
    for number, line in enumerate(lines, 1):
        match = LOG_LINE.match(line)
        if match is None:
            yield number, Skip("malformed", "not the combined or common log format")
            continue
        path = match["path"]
        status = int(match["status"])
        plain = path.split("?", 1)[0].split("#", 1)[0]
        extension = plain.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in plain.rsplit("/", 1)[-1] else ""
        if match["method"] != "GET" or not (200 <= status < 300 or status == 304):
            yield number, Skip("not a page view", f"{match['method']} answered {status}")
            continue
        if extension in static or plain.lower().startswith(ROBOT_PATHS):
            yield number, Skip("not a page view", "a static file or a robots' path")
            continue
        try:
            moment = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
        except ValueError:
            yield number, Skip("malformed", f"time {match['time']!r}")
            continue
        agent = match["agent"] or ""
        referrer = match["referrer"] if match["referrer"] not in (None, "", "-") else None
        who = sha256(f"{match['ip']}\n{agent}".encode()).hexdigest()[:32]
        yield (
            number,
            {
                "timestamp": int(moment.timestamp() * 1000),
                "href": f"https://{domain}{path if path.startswith('/') else '/' + path}",
                "referrer": referrer,
                "ip": match["ip"],
                "userAgent": agent,
                "visitorId": f"log:{who}",
            },
        )


def _umami_time(raw: str) -> str:
    """Umami's `created_at` as PostgreSQL prints it ("2024-05-01 12:34:56.789+00") in ISO 8601."""
    text = raw.strip().replace(" ", "T", 1)
    return text + ":00" if re.search(r"[+-]\d\d$", text) else text


def _umami(lines: Iterable[str], domain: str) -> Iterator[Item]:
    for number, row in _rows(lines):
        kind = row.get("event_type", "1")
        if kind not in ("1", "2") or not row.get("created_at") or not row.get("session_id"):
            yield number, Skip("malformed", "created_at, session_id and event_type 1 or 2 are required")
            continue
        query = row.get("url_query") or ""
        utm = {k: row[k] for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term") if row.get(k)}
        if utm and "utm_" not in query:
            query = "&".join(p for p in (query, urlencode(utm)) if p)
        host = row.get("hostname") or domain
        href = f"https://{host}{row.get('url_path') or '/'}" + (f"?{query}" if query else "")
        event: dict[str, Any] = {"timestamp": _umami_time(row["created_at"]), "href": href,
                                 "visitorId": f"umami:{row['session_id']}"}  # fmt: skip
        if row.get("referrer_domain"):
            ref_query = f"?{row['referrer_query']}" if row.get("referrer_query") else ""
            event["referrer"] = f"https://{row['referrer_domain']}{row.get('referrer_path') or '/'}{ref_query}"
        if row.get("page_title"):
            event["title"] = row["page_title"]
        if row.get("language"):
            event["language"] = row["language"]
        if kind == "2":
            if not row.get("event_name"):
                yield number, Skip("malformed", "a custom event (event_type 2) without event_name")
                continue
            event["type"], event["extraData"] = "custom", {"eventName": _goal_name(row["event_name"])}
        browser = row.get("browser") or ""
        known = {"browser": UMAMI_BROWSERS.get(browser, browser.title()), "os": row.get("os"),
                 "deviceType": row.get("device"), "country": row.get("country"),
                 "region": row.get("subdivision1"), "city": row.get("city")}  # fmt: skip
        event["ffKnown"] = {k: v for k, v in known.items() if v} or None
        yield number, event


def _goal_name(raw: str) -> str:
    """Umami's event names are free text; footfall's goals are DataFast's (a-z 0-9 _ - :, 64)."""
    name = re.sub(r"[^a-z0-9_:-]+", "_", raw.strip().lower()).strip("_")[:64]
    return name or "event"
