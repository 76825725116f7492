"""`footfall sites` and `footfall keys`: add, change and list sites; create, list and revoke keys."""

from __future__ import annotations

import typer

from footfall import accounts, site_metadata
from footfall.cli_common import account_id, fail, now, public_url, settings, with_store, write
from footfall.tracker import pixel_script, snippet

sites_cli = typer.Typer(help="Add and list sites.", no_args_is_help=True)
keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@sites_cli.command("add")
def sites_add(
    domain: str,
    timezone: str = typer.Option("UTC", help="IANA timezone for reports."),
    allowed_hostname: list[str] = typer.Option(
        [], "--allowed-hostname", help="Extra root domain for cross-domain tracking."
    ),
) -> None:
    """Add a site and print the snippet to paste in its <head>."""
    site = write(
        lambda tx: accounts.create_site(
            tx, account_id(tx), domain, now(), timezone=timezone, allowed_hostnames=tuple(allowed_hostname)
        )
    )
    typer.echo(f"Site {site.domain} added. Site id: {site.id}")
    typer.echo("Paste this in the <head> of every page:")
    typer.echo("  " + snippet(public_url(settings()), site.id, site.domain))


@sites_cli.command("set")
def sites_set(
    site_id: str,
    respect_gpc: bool = typer.Option(None, "--respect-gpc/--ignore-gpc", help="Drop events from browsers sending GPC."),
    respect_dnt: bool = typer.Option(None, "--respect-dnt/--ignore-dnt", help="Drop events from browsers sending DNT."),
    device_signals: bool = typer.Option(
        None, "--device-signals/--no-device-signals", help="Collect and store browser device signals (default on)."
    ),
    consent_required: bool = typer.Option(
        None, "--consent-required/--no-consent-required", help="Device signals only after footfall('consent', true)."
    ),
    form_capture: bool = typer.Option(
        None, "--form-capture/--no-form-capture", help="Capture contact fields of submitted forms (default off)."
    ),
    link_tokens_shared: bool = typer.Option(
        None,
        "--link-tokens-shared/--link-tokens-first-browser",
        help="An email link identifies every browser that opens it, or only the first (default).",
    ),
    keep_automated: bool = typer.Option(
        None,
        "--keep-automated/--filter-automated",
        help="Count automated browsers, script-less traffic from hosting networks and impossible speed "
        "(default: filtered; crawlers that say so are filtered always).",
    ),
    spam_referrers: str = typer.Option(
        None, "--spam-referrers", help="Referrer domains dropped as spam, beside the list (comma-separated)."
    ),
    stripe_secret: str = typer.Option(None, "--stripe-secret", help="Stripe webhook signing secret (whsec_...)."),
    lemonsqueezy_secret: str = typer.Option(None, "--lemonsqueezy-secret", help="LemonSqueezy webhook signing secret."),
    polar_secret: str = typer.Option(None, "--polar-secret", help="Polar webhook secret (Standard Webhooks)."),
    paddle_secret: str = typer.Option(None, "--paddle-secret", help="Paddle notification secret key (pdl_ntfset_...)."),
    name: str = typer.Option(None, "--name", help="The site's name in DataFast's metadata ('' clears it)."),
    logo: str = typer.Option(None, "--logo", help="The site's logo URL (https://...; '' clears it)."),
    kpi: str = typer.Option(None, "--kpi", help="The goal the site's owner follows ('' clears it)."),
    kpi_color: str = typer.Option(None, "--kpi-color", help=f"One of {', '.join(site_metadata.COLORS)}."),
    currency: str = typer.Option(None, "--currency", help="ISO 4217 code for revenue (default: the payments')."),
    conversion_goals: str = typer.Option(
        None, "--conversion-goals", help="Goal names that count as conversions for lead scoring (comma-separated)."
    ),
    exclude_ips: str = typer.Option(
        None, "--exclude-ips", help="IPs/networks whose events are dropped (comma-separated)."
    ),
    exclude_countries: str = typer.Option(None, "--exclude-countries", help="Country codes dropped (comma-separated)."),
    exclude_paths: str = typer.Option(
        None, "--exclude-paths", help="Path globs dropped, such as /admin/* (comma-separated)."
    ),
    exclude_hostnames: str = typer.Option(None, "--exclude-hostnames", help="Hostnames dropped (comma-separated)."),
    truncate_ips: bool = typer.Option(
        None, "--truncate-ips/--keep-ips", help="Store addresses cut to their network (IPv4 /24, IPv6 /48)."
    ),
    retention_days: int = typer.Option(
        None, "--retention-days", min=0, help="Keep visit data this many days (0: all)."
    ),
) -> None:
    """Change a site's settings (unchanged when not given)."""
    given = {
        "respect_gpc": respect_gpc,
        "respect_dnt": respect_dnt,
        "device_signals": device_signals,
        "consent_required": consent_required,
        "form_capture": form_capture,
        "link_tokens_shared": link_tokens_shared,
        "keep_automated": keep_automated,
        "stripe_webhook_secret": stripe_secret,
        "lemonsqueezy_webhook_secret": lemonsqueezy_secret,
        "polar_webhook_secret": polar_secret,
        "paddle_webhook_secret": paddle_secret,
        "conversion_goals": None
        if conversion_goals is None
        else [g.strip() for g in conversion_goals.split(",") if g.strip()],
    }
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        changes |= accounts.privacy_changes(
            {
                "exclude_ips": exclude_ips,
                "exclude_countries": exclude_countries,
                "exclude_paths": exclude_paths,
                "exclude_hostnames": exclude_hostnames,
                "retention_days": None if retention_days is None else str(retention_days),
                "spam_referrers": spam_referrers,
            }
        )
        changes |= site_metadata.changes(
            {"name": name, "logo": logo, "kpi": kpi, "kpi_color_scheme": kpi_color, "currency": currency}
        )
    except (accounts.InvalidInput, site_metadata.InvalidMetadata) as exc:
        fail(str(exc), 2)
    if truncate_ips is not None:
        changes["truncate_ips"] = truncate_ips
    if not changes:
        fail(
            "nothing to change: give --respect-gpc, --respect-dnt, --device-signals, --consent-required "
            "or --form-capture (or their --ignore-/--no- forms), --stripe-secret, --lemonsqueezy-secret, "
            "--conversion-goals, --exclude-ips, --exclude-countries, --exclude-paths, --exclude-hostnames, "
            "--truncate-ips/--keep-ips, --retention-days, --keep-automated/--filter-automated, --spam-referrers, "
            "--polar-secret, --paddle-secret, --name, --logo, --kpi, --kpi-color, --currency",
            2,
        )
    site = write(lambda tx: accounts.update_site_settings(tx, site_id, changes))
    shown = {
        k: (
            ",".join(v)
            if isinstance(v, list)
            else "cleared"
            if v is None
            else "set"
            if isinstance(v, str) and k.endswith("_secret")
            else v
            if isinstance(v, str)
            else str(v)
            if isinstance(v, int) and not isinstance(v, bool)
            else "on"
            if v
            else "off"
        )
        for k, v in changes.items()
    }
    typer.echo(f"Site {site.domain}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))


@sites_cli.command("list")
def sites_list() -> None:
    """List sites with their ids and snippets."""
    found = with_store(lambda store: store.read(lambda tx: accounts.list_sites(tx)))
    if not found:
        typer.echo("No sites yet. Add one with `footfall sites add example.com`.")
    for site in found:
        typer.echo(f"{site.id}  {site.domain}")
        typer.echo("  " + snippet(public_url(settings()), site.id, site.domain))
        typer.echo("  or, with no attributes: " + pixel_script(public_url(settings()), site.id))


@keys_cli.command("create")
def keys_create(
    scope: list[str] = typer.Option(..., "--scope", help=f"Repeatable. One of: {', '.join(accounts.SCOPES)}"),
    site: str = typer.Option(None, "--site", help="Limit the key to one site id."),
    name: str = typer.Option("", "--name", help="A label for the key."),
) -> None:
    """Create an API key (printed once)."""
    scopes = [p for s in scope for p in s.replace(",", " ").split()]
    clear, key = write(lambda tx: accounts.create_key(tx, account_id(tx), scopes, now(), site_id=site, name=name))
    typer.echo(f"Key {key.id} ({' '.join(key.scopes)}{', site ' + key.site_id if key.site_id else ', all sites'}):")
    typer.echo(f"  {clear}")
    typer.echo("It is shown once; footfall keeps only its hash.")


@keys_cli.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    found = with_store(
        lambda store: store.read(
            lambda tx: accounts.list_keys(tx, account_id(tx)) if accounts.first_account(tx) else []
        )
    )
    if not found:
        typer.echo("No keys. Run `footfall init`, then `footfall keys create --scope analytics:read`.")
    for k in found:
        state = "revoked" if k.revoked_at else "active"
        typer.echo(f"{k.id}  {k.prefix}…  {state:7}  {' '.join(k.scopes):30}  {k.site_id or 'all sites'}  {k.name}")


@keys_cli.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id or prefix."""
    key = write(lambda tx: accounts.revoke_key(tx, account_id(tx), key_id, now()))
    typer.echo(f"Key {key.id} revoked.")
