"""Every setting footfall has: name, default and help, read from `FOOTFALL_*`.

This is the only module that reads the environment. The README's configuration
table is generated from `SETTINGS` (`footfall settings --markdown`) and a test
checks that it is complete.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False  # shown masked by `footfall settings`

    @property
    def env(self) -> str:
        return "FOOTFALL_" + self.name.upper()

    def shown(self, value: Any) -> Any:
        """The value as `footfall settings` prints it: secrets masked, a URL's password too."""
        if not self.secret or not value:
            return value
        if isinstance(value, str) and "://" in value:
            scheme, _, rest = value.partition("://")
            credentials, at, host = rest.rpartition("@")
            if at and ":" in credentials:
                return f"{scheme}://{credentials.split(':', 1)[0]}:****@{host}"
            return value
        return "****"


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    return tuple(ipaddress.ip_network(p, strict=False) for p in parts)


def _list(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _numbers(raw: str) -> tuple[int, ...]:
    return tuple(int(p.strip().upper().removeprefix("AS")) for p in raw.split(",") if p.strip())


def _rates(raw: str) -> dict[str, float]:
    """`EUR=1.08,GBP=1.27`: US dollars per unit of each currency."""
    rates = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        code, _, value = part.partition("=")
        rate = float(value)
        if len(code.strip()) != 3 or not rate > 0:
            raise ValueError(f"expected CODE=rate (EUR=1.08), got {part!r}")
        rates[code.strip().upper()] = rate
    return rates


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./footfall-data", "Directory for the SQLite database, secrets and downloaded data."),
    Setting(
        "database_url",
        "",
        "PostgreSQL URL (postgresql://user@host/db). Empty: SQLite in the data directory.",
        secret=True,
    ),
    Setting("host", "127.0.0.1", "Address `footfall serve` listens on."),
    Setting("port", 8000, "Port `footfall serve` listens on.", int),
    Setting("workers", 1, "Number of uvicorn worker processes for `footfall serve`.", int),
    Setting("public_url", "", "Public base URL of this server, used in the printed snippet. Empty: http://HOST:PORT."),
    Setting(
        "secret_key",
        "",
        "Secret that signs visitor ids. Empty: generated once and kept in the database, shared by every instance.",
        secret=True,
    ),
    Setting(
        "trusted_proxies",
        (),
        "Comma-separated IPs/CIDRs of your reverse proxies: behind them the client is the right-most untrusted "
        "X-Forwarded-For address (docs/deploy.md).",
        _networks,
    ),
    Setting(
        "proxy_sets_real_ip",
        False,
        "Your trusted proxy sets (overwrites) X-Real-IP / x-datafast-real-ip: read them instead of X-Forwarded-For.",
        _bool,
    ),
    Setting(
        "geoip_city",
        "",
        "City MMDB path(s), comma-separated (GeoIP2/GeoLite2 City or the flat @ip-location-db layout). Empty: DATA_DIR/geo/city*.mmdb.",
    ),
    Setting(
        "geoip_asn",
        "",
        "ASN MMDB path(s), comma-separated (GeoLite2-ASN layout): the network's owner. Empty: DATA_DIR/geo/asn*.mmdb.",
    ),
    Setting(
        "hosting_asns",
        (),
        "Comma-separated AS numbers to treat as hosting networks, beyond the built-in list (docs/identity.md).",
        _numbers,
    ),
    Setting(
        "enrichment_url",
        "",
        "Optional enrichment provider footfall POSTs people to (docs/people.md has the contract). Empty: off.",
    ),
    Setting(
        "enrich_unverified",
        False,
        "Also ask the enrichment provider about people only keyless claims named (tracker identify, forms); "
        "off: only people a keyed identify, import, payment or email link named.",
        _bool,
    ),
    Setting("enrichment_token", "", "Bearer token sent to the enrichment provider, if it wants one.", secret=True),
    Setting("enrichment_timeout_ms", 2000, "How long footfall waits for the enrichment provider per request.", int),
    Setting("enrichment_ttl_days", 30, "Days an enrichment provider's answer is kept and reused.", int),
    Setting(
        "max_body_bytes", 1_048_576, "Largest request body accepted, on collect and every API; larger gets 413.", int
    ),
    Setting(
        "max_import_bytes", 16_777_216, "Largest contacts import accepted (API and dashboard); larger gets 413.", int
    ),
    Setting("max_batch_events", 500, "Most events accepted in one POST /api/events/batch.", int),
    Setting(
        "session_idle_minutes",
        30,
        "Minutes of inactivity after which a visitor's next event starts a new session.",
        int,
    ),
    Setting(
        "match_window_days",
        30,
        "Days a browser's device signals are remembered for matching a browser that lost its visitor id.",
        int,
    ),
    Setting(
        "referrer_spam_file",
        "",
        "Referrer-spam list, one domain per line (Matomo's format); empty: DATA_DIR/referrer-spam.txt if it "
        "exists. `footfall referrer-spam update` downloads Matomo's list there.",
    ),
    Setting(
        "link_token_days",
        30,
        "Days an email-link token (ff_t) identifies its person after it was made; then the link is an ordinary link.",
        int,
    ),
    Setting(
        "commit_window_ms",
        2.0,
        "SQLite group commit: how long the writer waits for more events before committing a lone one.",
        float,
    ),
    Setting(
        "sqlite_synchronous",
        "FULL",
        "SQLite PRAGMA synchronous (FULL survives power loss; NORMAL only process crashes).",
        str.upper,
    ),
    Setting(
        "writer_process",
        True,
        "Identify and write events in a process of their own (false: in the store's writer thread).",
        _bool,
    ),
    Setting(
        "writer_timeout_seconds",
        30.0,
        "The event writer must answer within this long; past it, it is restarted and what it held is answered 503 "
        "(and /healthz reports it). It also bounds how long a graceful stop waits for requests in flight.",
        float,
    ),
    Setting("read_pool_size", 4, "Read connections kept open (SQLite) or the pool maximum (PostgreSQL).", int),
    Setting(
        "fingerprint_rate", 5.0, "Fingerprint Server API: requests a second per key (then 429 with Retry-After).", float
    ),
    Setting("fingerprint_burst", 15.0, "Fingerprint Server API: requests per key allowed at once.", float),
    Setting(
        "api_rate_per_minute",
        600,
        "Requests a minute per API key on the DataFast, PostMetric, people and analytics APIs (then 429).",
        int,
    ),
    Setting(
        "floqer_rate_per_minute", 200, "Floqer sources and workflows APIs: requests a minute per key (then 429).", int
    ),
    Setting("floqer_rate_per_day", 10_000, "Floqer sources and workflows APIs: requests a day per key.", int),
    Setting(
        "credits_unlimited",
        True,
        "Accounts have unlimited credits (false: sources cost credits from the ledger, `footfall credits grant`).",
        _bool,
    ),
    Setting("personal_source_credits", 1, "Credits a personal visitors source costs to create.", int),
    Setting("company_source_credits", 0, "Credits a company visitors source costs to create.", int),
    Setting(
        "outbound_allow",
        (),
        "Comma-separated networks (CIDRs) that webhooks, Slack and the enrichment provider may reach although they "
        "are not public (loopback, private, link-local...), or * for any; empty: public addresses only.",
        _list,
    ),
    Setting("delivery_timeout_seconds", 10.0, "Workflow deliveries: how long to wait for the receiver.", float),
    Setting("delivery_backoff_ms", 1000, "Workflow deliveries: the first retry's delay (then doubled, jittered).", int),
    Setting("delivery_max_age_hours", 24.0, "Workflow deliveries: retried for this long, then failed.", float),
    Setting("delivery_interval_seconds", 1.0, "How often the sender looks for due deliveries.", float),
    Setting(
        "rollup_interval_seconds",
        60.0,
        "How often the analytics rollups fold finished visits (docs/storage.md); 0 turns the job off "
        "(analytics stay exact, computed from the rows).",
        float,
    ),
    Setting(
        "scoring_interval_seconds",
        300.0,
        "How often the lead-scoring job trains (when enough new conversions came in) and scores the "
        "visitors active since its last run (docs/scoring.md); 0 turns it off.",
        float,
    ),
    Setting(
        "usd_rates",
        "",
        "US dollars per unit of other currencies for lead scoring's expected value (EUR=1.08,GBP=1.27); "
        "payments in a currency without a rate are left out of the average.",
        _rates,
    ),
    Setting(
        "collect_rate_per_minute_ip",
        12_000,
        "Collect: events a minute accepted from one client address (past it: 429 with Retry-After); 0: no limit.",
        int,
    ),
    Setting(
        "collect_rate_per_minute_site",
        0,
        "Collect: events a minute accepted for one site (past it: 429 with Retry-After); 0: no limit.",
        int,
    ),
    Setting(
        "metrics_token", "", "If set, GET /metrics needs `Authorization: Bearer <token>`; empty: open.", secret=True
    ),
    Setting(
        "dashboard_insecure_cookies",
        False,
        "Send the dashboard's session cookie without the Secure flag. Only for plain http on a host "
        "other than localhost/127.0.0.1 (browsers keep Secure cookies there); never on the internet.",
        _bool,
    ),
    Setting(
        "benchmark_routes",
        False,
        "Expose POST /_bench/noop, the do-nothing endpoint bench/ingest.py compares against.",
        _bool,
    ),
    Setting("log_level", "info", "Log level for the server (debug, info, warning, error)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name not in _BY_NAME:
            raise AttributeError(name)
        return self.values.get(name, _BY_NAME[name].default)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.env in environ:
                try:
                    values[setting.name] = setting.parse(environ[setting.env])
                except ValueError as exc:
                    raise ValueError(f"{setting.env}: {exc}") from exc
        values.update(overrides)
        return cls(values)

    def replace(self, **overrides: Any) -> Settings:
        unknown = set(overrides) - set(_BY_NAME)
        if unknown:
            raise AttributeError(f"unknown settings: {sorted(unknown)}")
        return dataclasses.replace(self, values={**self.values, **overrides})

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def uses_postgres(self) -> bool:
        return str(self.database_url).startswith(("postgres://", "postgresql://"))


def export_overrides(overrides: Mapping[str, Any]) -> None:
    """Put command-line overrides in the environment, where uvicorn's worker processes read them."""
    for name, value in overrides.items():
        os.environ[_BY_NAME[name].env] = str(value)


def markdown_table() -> str:
    """The configuration table the README carries (a test keeps them equal)."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = ",".join(map(str, s.default)) if isinstance(s.default, tuple) else s.default
        rows.append(f"| `{s.env}` | `{default}` | {s.help} |")
    return "\n".join(rows)
