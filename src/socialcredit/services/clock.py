"""The registry clock: 'now' in UTC and 'today' in the registry's time zone.

Every service asks the clock, never ``datetime.now()`` directly, so that tests and replays can
pin time (setting ``now``) without sleeping or patching.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from socialcredit.domain.errors import InputError

__all__ = ["Clock", "parse_timestamp"]


def parse_timestamp(text: str, zone: ZoneInfo, *, field: str = "timestamp") -> datetime:
    """An ISO-8601 timestamp (or date) as aware UTC; without an offset it is read in ``zone``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{field}: {text!r} is not an ISO-8601 timestamp") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    zone: ZoneInfo
    pinned: datetime | None = None

    @classmethod
    def create(cls, timezone: str, now: str = "") -> "Clock":
        zone = ZoneInfo(timezone)
        pinned = parse_timestamp(now, zone, field="setting now") if now else None
        return cls(zone=zone, pinned=pinned)

    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        return self.pinned if self.pinned is not None else datetime.now(tz=UTC)

    def today(self) -> date:
        """Today's date in the registry's time zone."""
        return self.now().astimezone(self.zone).date()
