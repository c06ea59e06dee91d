"""``socialcredit serve``: the HTTP API (and the portal) with uvicorn."""

import os
from typing import Annotated

import typer

from socialcredit.api.server import DB_ENV
from socialcredit.cli import app
from socialcredit.cli.common import Db, command, err, open_registry, shown_url
from socialcredit.domain.errors import InputError

__all__ = ["serve"]

MAX_WORKERS = 64


@app.command("serve")
@command
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=MAX_WORKERS, help="Worker processes (uvicorn)."),
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request on stderr.")
    ] = True,
    db: Db = None,
) -> None:
    """Serve the HTTP API: /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /docs)."""
    import uvicorn

    registry = open_registry(db)  # refuses a database that is not set up, before listening
    url = registry.database.url
    shown = shown_url(registry)
    memory = registry.database.is_sqlite and registry.database.engine.url.database in (
        None,
        "",
        ":memory:",
    )
    registry.close()
    if memory:
        raise InputError("serve needs a database file or server, not an in-memory SQLite")
    # Each worker process opens the registry from the environment (an import-string factory).
    os.environ[DB_ENV] = url
    err.print(f"serving {shown} on http://{host}:{port} (API docs: /docs)")
    uvicorn.run(
        "socialcredit.api.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        server_header=False,
        log_level="info",
    )
