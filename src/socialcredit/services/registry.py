"""The registry a service works on: database, settings, clock and the loaded catalogues.

Every use case takes a ``Registry`` first. The CLI, the HTTP API and the batch jobs each build
one (``Registry.open``) and call the same service functions with it.
"""

import json
from dataclasses import dataclass, field
from datetime import date

from socialcredit.domain.catalogue import Catalogue, parse_catalogue
from socialcredit.domain.errors import NoCatalogueError
from socialcredit.services.clock import Clock
from socialcredit.settings import Settings, load_settings
from socialcredit.store import repository
from socialcredit.store.db import Database

__all__ = ["Registry"]


@dataclass
class Registry:
    database: Database
    settings: Settings
    clock: Clock
    _catalogues: tuple[Catalogue, ...] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, url: str, settings: Settings | None = None) -> "Registry":
        settings = settings or load_settings()
        database = Database(
            url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            cache_mib=settings.sqlite_cache_mib,
        )
        return cls(database, settings, Clock.create(settings.timezone, settings.now))

    def close(self) -> None:
        self.database.dispose()

    def catalogues(self) -> tuple[Catalogue, ...]:
        """Every loaded version, by increasing ``effective_from`` (cached until one loads)."""
        if self._catalogues is None:
            with self.database.read() as connection:
                rows = repository.load_catalogue_rows(connection)
            self._catalogues = tuple(
                parse_catalogue(json.loads(row["document"]), source=f"stored {row['version']}")
                for row in rows
            )
        return self._catalogues

    def forget_catalogues(self) -> None:
        self._catalogues = None

    def in_force(self, day: date) -> Catalogue:
        """The version in force on ``day``; refuses a day before every version."""
        in_force = [c for c in self.catalogues() if c.effective_from <= day]
        if not in_force:
            loaded = self.catalogues()
            first = f"the first is {loaded[0].effective_from.isoformat()}" if loaded else "none"
            raise NoCatalogueError(
                f"no catalogue version is in force on {day.isoformat()} (loaded versions: {first})"
            )
        return in_force[-1]

    def version(self, version: str) -> Catalogue:
        for catalogue in self.catalogues():
            if catalogue.version == version:
                return catalogue
        raise NoCatalogueError(f"catalogue version {version!r} is not loaded")
