"""What uvicorn imports: ``socialcredit.api.server:app_from_env`` (a factory): the API and the
web portal's pages (``web.portal.install_portal``) in one application.

Several worker processes cannot share one application object, so each builds its own from the
environment that ``socialcredit serve`` sets: the database URL in ``SOCIALCREDIT_DB`` and the
named settings in ``SOCIALCREDIT_*``. SQLite in WAL mode lets the workers read at once; writes
take turns (bounded by ``sqlite_busy_timeout_ms``).
"""

import os

from fastapi import FastAPI

from socialcredit.api.app import create_app
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.web.portal import install_portal

__all__ = ["DB_ENV", "app_from_env"]

DB_ENV = "SOCIALCREDIT_DB"


def app_from_env() -> FastAPI:
    url = os.environ.get(DB_ENV)
    if not url:
        raise RuntimeError(f"{DB_ENV} is not set; start the server with `socialcredit serve`")
    settings = load_settings()
    return install_portal(create_app(Registry.open(url, settings), settings))
