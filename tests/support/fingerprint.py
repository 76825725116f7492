"""Fingerprint's official Python SDK pointed at a test server, and keys for it."""

from __future__ import annotations

import warnings

from footfall import accounts
from tests.support.servers import AppServer

with warnings.catch_warnings():  # the v3 SDK announces its own deprecation (v4 exists); v3 is what footfall speaks
    warnings.simplefilter("ignore", DeprecationWarning)
    from fingerprint_pro_server_api_sdk import Configuration, EventsUpdateRequest, FingerprintApi
    from fingerprint_pro_server_api_sdk.rest import KnownApiException


def fingerprint_key(server: AppServer, site: str | None, scopes: tuple[str, ...] = ("fingerprint:read",)) -> str:
    def go(tx):  # type: ignore[no-untyped-def]
        account = accounts.first_account(tx)
        return accounts.create_key(tx, account["id"], list(scopes), server.clock.now_ms(), site_id=site)[0]

    return server.store.write(go)


def sdk(server: AppServer, key: str) -> FingerprintApi:
    cfg = Configuration(api_key=key)
    cfg.host = server.url
    return FingerprintApi(cfg)


__all__ = ["EventsUpdateRequest", "KnownApiException", "fingerprint_key", "sdk"]
