"""The HTTP API (FastAPI): an adapter over the services, like the CLI."""

from socialcredit.api.app import create_app

__all__ = ["create_app"]
