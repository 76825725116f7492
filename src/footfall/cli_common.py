"""What every `footfall` command shares: settings, the store, the account, errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import typer

from footfall import accounts
from footfall.settings import Settings
from footfall.store import open_store
from footfall.store.base import Store, Tx

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        fail(str(exc), 2)
        raise


def now() -> int:
    return int(time.time() * 1000)


def with_store(fn: Callable[[Store], T]) -> T:
    try:
        store = open_store(settings())
    except Exception as exc:  # noqa: BLE001 - a CLI reports, it does not trace back
        fail(f"cannot open the database: {exc}")
        raise
    try:
        return fn(store)
    finally:
        store.close()


def account_id(tx: Tx) -> str:
    account = accounts.first_account(tx)
    if account is None:
        raise accounts.InvalidInput("no account yet: run `footfall init` first")
    return str(account["id"])


def write(fn: Callable[[Tx], T]) -> T:
    try:
        return with_store(lambda store: store.write(fn))
    except accounts.InvalidInput as exc:
        fail(str(exc))
        raise


def public_url(s: Settings) -> str:
    return s.public_url or f"http://{s.host}:{s.port}"
