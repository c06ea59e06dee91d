"""Use cases of a long-running server: is the database up, is the catalogue cache current?"""

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from socialcredit.services.registry import Registry
from socialcredit.store.schema import catalogue_versions

__all__ = ["database_answers", "refresh_catalogues"]


def database_answers(registry: Registry) -> bool:
    try:
        with registry.database.read() as connection:
            return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)
    except SQLAlchemyError:
        return False


def refresh_catalogues(registry: Registry) -> bool:
    """Forget the cached catalogues if another process loaded a version; True if it did.

    ``Registry`` caches the parsed catalogue versions; a server runs for weeks while
    ``socialcredit catalogue load`` runs beside it, so the server compares the stored version
    names with its cache now and then (one small query).
    """
    with registry.database.read() as connection:
        stored = tuple(
            connection.execute(
                select(catalogue_versions.c.version).order_by(catalogue_versions.c.effective_from)
            ).scalars()
        )
    cached = tuple(catalogue.version for catalogue in registry.catalogues())
    if stored == cached:
        return False
    registry.forget_catalogues()
    return True
