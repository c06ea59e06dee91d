"""The registry a service works on: database, settings, clock and the loaded catalogues.

Every use case takes a ``Registry`` first. The CLI, the HTTP API and the batch jobs each build
one (``Registry.open``) and call the same service functions with it.
"""

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime

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
    _loaded_at: tuple[datetime, ...] = field(default=(), repr=False)
    _generation: tuple[int, datetime | None] | None = field(default=None, repr=False)
    _checked_at: float = field(default=-1e9, repr=False)

    @classmethod
    def open(cls, url: str, settings: Settings | None = None) -> "Registry":
        settings = settings or load_settings()
        database = Database(
            url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            cache_mib=settings.sqlite_cache_mib,
            ledger=settings.ledger,
        )
        return cls(database, settings, Clock.create(settings.timezone, settings.now))

    def close(self) -> None:
        self.database.dispose()

    def catalogues(self, known_at: datetime | None = None) -> tuple[Catalogue, ...]:
        """Every loaded version by increasing ``effective_from`` (those loaded by ``known_at``).

        Cached; the stored versions are looked at again at most every
        ``settings.catalogue_recheck_ms`` (another process may load one; one query per recheck
        instead of one per request), and at once after a load in this process.
        """
        now = time.monotonic()
        recheck_s = self.settings.catalogue_recheck_ms / 1000
        if self._catalogues is not None and now - self._checked_at < recheck_s:
            return self._select(known_at)
        with self.database.read() as connection:
            generation = repository.catalogue_generation(connection)
            self._checked_at = now
            if self._catalogues is None or self._generation != generation:
                rows = repository.load_catalogue_rows(connection)
                self._catalogues = tuple(
                    parse_catalogue(json.loads(row["document"]), source=f"stored {row['version']}")
                    for row in rows
                )
                self._loaded_at = tuple(row["recorded_at"] for row in rows)
                self._generation = generation
        return self._select(known_at)

    def _select(self, known_at: datetime | None) -> tuple[Catalogue, ...]:
        catalogues = self._catalogues or ()
        if known_at is None:
            return catalogues
        return tuple(
            catalogue
            for catalogue, loaded_at in zip(catalogues, self._loaded_at, strict=True)
            if loaded_at <= known_at
        )

    def forget_catalogues(self) -> None:
        self._catalogues = None
        self._checked_at = -1e9

    def in_force(self, day: date, known_at: datetime | None = None) -> Catalogue:
        """The version in force on ``day`` (as known at ``known_at``); refuses an earlier day."""
        loaded = self.catalogues(known_at)
        in_force = [c for c in loaded if c.effective_from <= day]
        if not in_force:
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
