"""The `footfall` command, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from footfall import __version__, accounts
from footfall.cli import cli
from footfall.settings import Settings
from footfall.store import open_store

runner = CliRunner()


def run(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "FOOTFALL_DATA_DIR": settings.data_dir,
        "FOOTFALL_DATABASE_URL": settings.database_url,
        "FOOTFALL_PUBLIC_URL": "https://stats.example.net",
    }
    result = runner.invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_init_sites_and_keys(settings: Settings) -> None:
    code, out = run(settings, "init")
    assert code == 0 and re.search(r"ff_[A-Za-z0-9]{40}", out)
    code, again = run(settings, "init")
    assert code == 0 and "already initialised" in again and "ff_" not in again

    code, out = run(settings, "sites", "add", "https://www.Shop.example.com/")
    site_id = re.search(r"Site id: ([0-9a-f]{24})", out).group(1)
    snippet = (
        f'<script defer data-website-id="{site_id}" data-domain="shop.example.com" '
        'src="https://stats.example.net/js/script.js"></script>'
    )
    assert code == 0 and snippet in out
    code, listed = run(settings, "sites", "list")
    assert code == 0 and site_id in listed and snippet in listed
    assert f'<script defer src="https://stats.example.net/p/{site_id}.js"></script>' in listed

    code, out = run(settings, "sites", "set", site_id, "--respect-gpc")
    assert code == 0 and "respect_gpc=on" in out
    code, out = run(settings, "sites", "set", site_id, "--ignore-gpc", "--respect-dnt", "--no-device-signals")
    assert code == 0 and "respect_gpc=off, respect_dnt=on, device_signals=off" in out
    code, out = run(settings, "sites", "set", site_id, "--consent-required")
    assert code == 0 and "consent_required=on" in out
    store = open_store(settings)
    site = store.read(lambda tx: accounts.get_site(tx, site_id))
    store.close()
    assert site is not None
    assert site.settings == {
        "respect_gpc": False,
        "respect_dnt": True,
        "device_signals": False,
        "consent_required": True,
    }
    assert run(settings, "sites", "set", site_id)[0] == 2
    assert run(settings, "sites", "set", "000000000000000000000000", "--respect-dnt")[0] == 1
    code, out = run(settings, "sites", "set", site_id, "--exclude-ips", "10.0.0.0/8, 203.0.113.7", "--truncate-ips",
                    "--retention-days", "30", "--exclude-paths", "/admin/*")  # fmt: skip
    assert code == 0 and "exclude_ips=10.0.0.0/8,203.0.113.7" in out and "truncate_ips=on" in out, out
    assert "retention_days=30" in out and "exclude_paths=/admin/*" in out, out
    bad = run(settings, "sites", "set", site_id, "--exclude-ips", "10.0.0.0/8, nope")
    assert bad[0] == 2 and "not an IP address or network: 'nope'" in bad[1]
    code, out = run(settings, "sites", "set", site_id, "--name", "The Shop", "--kpi-color", "teal", "--currency", "eur",
                    "--polar-secret", "polar_whs_x", "--logo", "")  # fmt: skip
    assert code == 0 and "name=The Shop" in out and "kpi_color_scheme=teal" in out and "currency=EUR" in out, out
    assert "polar_webhook_secret=set" in out and "logo=cleared" in out and "polar_whs_x" not in out, out
    bad = run(settings, "sites", "set", site_id, "--kpi-color", "magenta")
    assert bad[0] == 2 and "KPI colour is one of" in bad[1]

    code, out = run(settings, "keys", "create", "--scope", "analytics:read", "--site", site_id, "--name", "ro")
    key = re.search(r"ff_[A-Za-z0-9]{40}", out).group(0)
    key_id = re.search(r"Key ([0-9a-f]{16})", out).group(1)
    code, listed = run(settings, "keys", "list")
    assert code == 0 and key_id in listed and key not in listed and "active" in listed
    code, out = run(settings, "keys", "revoke", key_id)
    assert code == 0 and "revoked" in out
    assert "revoked" in run(settings, "keys", "list")[1]


def test_failures_exit_non_zero_with_a_helpful_message(settings: Settings) -> None:
    code, out = run(settings, "sites", "add", "example.com")
    assert code == 1 and "footfall init" in out
    run(settings, "init")
    code, out = run(settings, "sites", "add", "not a domain")
    assert code == 1 and "not a domain name" in out
    run(settings, "sites", "add", "example.com")
    code, out = run(settings, "sites", "add", "example.com")
    assert code == 1 and "already" in out
    code, out = run(settings, "keys", "create", "--scope", "everything")
    assert code == 1 and "unknown scope" in out
    code, out = run(settings, "keys", "revoke", "nope")
    assert code == 1 and "no API key" in out


def test_migrate_and_version(settings: Settings) -> None:
    assert run(settings, "migrate") == (0, "Database is up to date.\n")
    assert run(settings, "version") == (0, f"footfall {__version__}\n")


def test_settings_markdown_lists_every_variable(settings: Settings) -> None:
    code, out = run(settings, "settings", "--markdown")
    assert code == 0 and "FOOTFALL_DATABASE_URL" in out and "FOOTFALL_TRUSTED_PROXIES" in out


def test_credits_grant_and_balance(settings: Settings) -> None:
    code, out = run(settings, "credits", "balance")
    assert code != 0 and "footfall init" in out  # no account yet
    run(settings, "init")
    code, out = run(settings, "credits", "grant", "5")
    assert code == 0 and out.startswith("balance: 5 credits")
    run(settings, "credits", "grant", "--", "-2")
    code, out = run(settings, "credits", "balance")
    assert code == 0 and "balance: 3 credits" in out and "FOOTFALL_CREDITS_UNLIMITED is on" in out


def test_users_add_and_list(settings: Settings) -> None:
    code, out = run(settings, "users", "add", "Owner@Example.com", "--password", "a long enough secret")
    assert code == 0 and "owner@example.com added" in out, out
    code, out = run(settings, "users", "list")
    assert code == 0 and out.strip() == "owner@example.com"
    again = run(settings, "users", "add", "owner@example.com", "--password", "a long enough secret")
    short = run(settings, "users", "add", "other@example.com", "--password", "short")
    assert again[0] == 1 and "already exists" in again[1]
    assert short[0] == 1 and "at least 10 characters" in short[1]
    store = open_store(settings)
    try:
        stored = store.read(lambda tx: tx.one("SELECT password_hash FROM users"))
    finally:
        store.close()
    assert stored["password_hash"].startswith("$argon2id$") and "secret" not in stored["password_hash"]
