"""Entry point for uvicorn workers: `footfall.server:app` (a factory reading the environment)."""

from fastapi import FastAPI

from footfall import logs
from footfall.app import create_app
from footfall.runtime import tune_gc
from footfall.settings import Settings


def app() -> FastAPI:
    logs.install()
    built = create_app(Settings.from_env())
    tune_gc()
    return built
