"""`footfall score`: train a site's model now, and measure the live model (docs/scoring.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import typer

from footfall import accounts
from footfall.cli_common import fail, settings, with_store
from footfall.store.base import Store, Tx

score_cli = typer.Typer(help="Lead scoring: train a site's model now, measure it.", no_args_is_help=True)


@score_cli.command("train")
def score_train(
    site_id: str = typer.Option(..., "--site", help="The site to train and score."),
    retrain: bool = typer.Option(False, "--retrain", help="Train even if not enough new conversions came in."),
) -> None:
    """Run the lead-scoring job for one site now (the server runs it every FOOTFALL_SCORING_INTERVAL_SECONDS)."""
    from footfall.clock import SystemClock
    from footfall.scoring.scorer import Scoring

    def go(store: Store) -> str:
        site = store.read(lambda tx: accounts.get_site(tx, site_id))
        if site is None:
            fail(f"no site {site_id}")
            raise AssertionError
        job = Scoring(store, SystemClock(), settings().usd_rates or {})
        return job.site(site.num, list(site.settings.get("conversion_goals", [])), retrain=retrain)

    typer.echo(with_store(go))


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


@score_cli.command("evaluate")
def score_evaluate(
    site_id: str = typer.Option(None, "--site", help="A site: the live model, with a temporal hold-out."),
    train_before: datetime = typer.Option(
        None, formats=["%Y-%m-%d"], help="Train on visitors first seen before this day (default: --score-from)."
    ),
    score_from: datetime = typer.Option(
        None, formats=["%Y-%m-%d"], help="Score visitors first seen from this day (default: the latest quarter)."
    ),
    csv_path: Path = typer.Option(None, "--csv", help="Or: the trainer alone, on feature rows with a label column."),
    label: str = typer.Option("converted", help="The CSV's label column: true/false, yes/no or 1/0."),
    folds: int = typer.Option(5, min=2, max=20, help="The CSV's cross-validation folds."),
) -> None:
    """Measure the live model on a site's own history (or the trainer on a CSV): AUC, log loss, Brier
    score and a calibration table, beside logistic regression and a rule on the same visitors."""
    if (site_id is None) == (csv_path is None):
        fail("give --site SITE_ID or --csv FILE", 2)
    if csv_path is not None:
        _evaluate_csv(csv_path, label, folds)
        return
    from footfall.scoring import timelines
    from footfall.scoring.evaluation import evaluate, latest_quarter

    def read(tx: Tx) -> list[timelines.Timeline]:
        site = accounts.get_site(tx, site_id)
        if site is None:
            raise accounts.InvalidInput(f"no site {site_id}")
        return timelines.read(tx, site.num, list(site.settings.get("conversion_goals", [])))

    try:
        seen = with_store(lambda store: store.read(read))
        start = _ms(score_from.date()) if score_from else latest_quarter(seen)
        end = _ms(train_before.date()) if train_before else start
        if end > start:
            raise ValueError("--train-before must not be after --score-from")
        report = evaluate(seen, end, start)
    except (ValueError, accounts.InvalidInput) as exc:
        fail(str(exc))
        raise
    converted = sum(t.converted_at is not None for t in seen)
    typer.echo(f"{len(seen):,} visitors with a page view, {converted:,} converted")
    typer.echo(
        f"trained on {report.train_visitors:,} first seen before {_day(end)} UTC "
        f"({report.train_positives:,} converted before {_day(start)})"
    )
    typer.echo(
        f"scored {report.test_visitors:,} first seen from {_day(start)} UTC, each at a random moment "
        f"before converting ({report.test_positives:,} converted later)\n"
    )
    typer.echo("| model | AUC | 95% bootstrap | footfall's AUC minus this (95%) | log loss | Brier |")
    typer.echo("| --- | ---: | ---: | ---: | ---: | ---: |")
    for m in report.results:
        low, high = m.interval
        diff = (
            "" if m.difference is None else f"{m.difference[0]:+.4f} ({m.difference[1]:+.4f} to {m.difference[2]:+.4f})"
        )
        loss = "" if m.log_loss is None else f"{m.log_loss:.4f}"
        brier = "" if m.brier is None else f"{m.brier:.5f}"
        typer.echo(f"| {m.name} | {m.auc:.4f} | {low:.4f}-{high:.4f} | {diff} | {loss} | {brier} |")
    typer.echo("\ncalibration (held-out visitors in tenths by footfall's prediction)\n")
    typer.echo("| predicted from | mean predicted | observed | visitors |\n| ---: | ---: | ---: | ---: |")
    for low, mean, observed, n in report.calibration:
        typer.echo(f"| {low:.4f} | {mean:.4f} | {observed:.4f} | {n:,} |")
    typer.echo("\nsignals (AUC lost when one is shuffled)\n")
    typer.echo("| signal | AUC lost |\n| --- | ---: |")
    for name, lost in report.top_signals[:10]:
        typer.echo(f"| {name} | {lost:.4f} |")


def _evaluate_csv(path: Path, label: str, folds: int) -> None:
    from footfall.scoring.trainer import cross_validate, read_csv

    try:
        result = cross_validate(read_csv(path, label), folds)
    except (OSError, ValueError) as exc:
        fail(str(exc))
        raise
    typer.echo(f"{result.rows:,} rows, {result.positives:,} converting, {result.folds}-fold cross-validation")
    typer.echo(f"AUC {result.auc:.4f}   log loss {result.log_loss:.4f}")
    typer.echo("\n| predicted | rows | mean predicted | observed |\n| --- | ---: | ---: | ---: |")
    for low, high, mean, observed, n in result.calibration:
        typer.echo(f"| {low:.1f}-{high:.1f} | {n:,} | {mean:.3f} | {observed:.3f} |")
