"""Use case of a long-running server: is the database up?"""

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from socialcredit.services.registry import Registry

__all__ = ["database_answers"]


def database_answers(registry: Registry) -> bool:
    try:
        with registry.database.read() as connection:
            return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)
    except SQLAlchemyError:
        return False
