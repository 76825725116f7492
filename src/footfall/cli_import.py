"""`footfall import FILE --site SITE`: history into a site (docs/import.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from footfall.cli_common import fail, settings
from footfall.clock import SystemClock
from footfall.enrich.networks import HostingNetworks
from footfall.enrich.spam import ReferrerSpam
from footfall.ids import LinkSigner
from footfall.importing.formats import FORMATS, STATIC
from footfall.importing.runner import Importer, lines_of
from footfall.ingest.writer import EventWriter

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".log": "log"}


def guess(path: Path) -> str | None:
    name = path.name.removesuffix(".gz")
    return SUFFIXES.get(Path(name).suffix) or ("log" if "access" in name else None)


def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The file (gzip when it ends in .gz)."),
    site: str = typer.Option(..., "--site", help="The site id the history belongs to."),
    fmt: str = typer.Option(None, "--format", help=f"One of {', '.join(FORMATS)} (default: from the file's name)."),
    static: str = typer.Option("", "--static", help="Logs: more extensions that are not pages (comma-separated)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Import history: footfall's JSONL or CSV events, a web server's access log, or Umami's export.
    Resumable and idempotent: run it again after a failure, or on the same file, safely."""
    from footfall.app import build, spam_path  # the server's components, built once

    fmt = fmt or guess(file) or ""
    if fmt not in FORMATS:
        fail(f"say which format the file is in: --format {' | '.join(FORMATS)}", 2)
    s = settings()
    c = build(s, SystemClock())
    hosting = HostingNetworks(s.hosting_asns)
    writer = EventWriter(c.signer, LinkSigner(c.secret), s.session_idle_minutes * 60_000,
                         s.match_window_days * 86_400_000, hosting, s.link_token_days * 86_400_000)  # fmt: skip
    importer = Importer(c.store, writer, c.geo, c.clock, hosting, ReferrerSpam.from_file(spam_path(s)))
    options: dict[str, frozenset[str]] = {}
    if fmt == "log" and static:
        options["static"] = STATIC | {e.strip().lstrip(".").lower() for e in static.split(",") if e.strip()}
    try:
        if quiet:
            report = importer.run(file, site, fmt, None, **options)
        else:
            total = sum(1 for _ in lines_of(file))
            with typer.progressbar(length=total, label=f"Importing {file.name}") as bar:
                report = importer.run(file, site, fmt, bar.update, **options)
    except ValueError as exc:
        fail(str(exc))
        raise
    finally:
        c.store.close()
    if report.already:
        typer.echo(f"{file.name} was imported into this site before: nothing to do ({report.imported} events).")
        return
    if report.resumed_at:
        typer.echo(f"Resumed after line {report.resumed_at} (a run before committed that far).")
    for number, why in report.problems:
        typer.echo(f"line {number}: {why}", err=True)
    skipped = sum(report.skipped.values())
    typer.echo(f"Imported {report.imported} events from {report.lines} lines; skipped {skipped}.")
    for reason, count in report.skipped.most_common():
        typer.echo(f"  {count:>9}  {reason}")
