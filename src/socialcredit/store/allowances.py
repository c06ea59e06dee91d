"""Token buckets kept in the database: one row per key, shared by every server process.

A bucket holds at most ``capacity`` tokens and gains ``per_second`` of them as time passes;
taking one is a single upsert that refills the row and takes a token only if one is there.
PostgreSQL locks the row for the statement's transaction, so two processes taking at once
take in turn; SQLite's write transaction is the only writer.
"""

from sqlalchemy import Connection

__all__ = ["take_token"]

# Written out once, the same for both databases (CASE where SQLite says min/max and
# PostgreSQL least/greatest), and run on the driver's own cursor: built per call with
# SQLAlchemy's expressions and run through it, it cost more than the rest of the check.
_ELAPSED = "CASE WHEN {now} > check_allowances.at_s THEN {now} - check_allowances.at_s ELSE 0 END"
_GROWN = "check_allowances.tokens + (" + _ELAPSED + ") * {per_second}"
_REFILLED = "CASE WHEN " + _GROWN + " > {capacity} THEN {capacity} ELSE " + _GROWN + " END"
_TAKE = (
    "INSERT INTO check_allowances (account_id, tokens, at_s) VALUES ({key}, {capacity} - 1, {now}) "
    "ON CONFLICT (account_id) DO UPDATE SET tokens = (" + _REFILLED + ") - 1, at_s = {now} "
    "WHERE (" + _REFILLED + ") >= 1 RETURNING tokens"
)
_READ = "SELECT tokens, at_s FROM check_allowances WHERE account_id = {key}"
_SQLITE = {"key": ":key", "capacity": ":capacity", "per_second": ":per_second", "now": ":now"}
_POSTGRES = {name: f"%({name})s" for name in _SQLITE}
_STATEMENTS = {
    "sqlite": (_TAKE.format(**_SQLITE), _READ.format(**_SQLITE)),
    "postgresql": (_TAKE.format(**_POSTGRES), _READ.format(**_POSTGRES)),
}

# A refusal always says to wait a little: rounding may put ``have`` at 1.0 in Python where
# the database found it just below.
_AT_LEAST_S = 0.001


def take_token(
    connection: Connection, key: int, capacity: float, per_second: float, now_s: float
) -> float:
    """Take one of ``key``'s tokens: 0.0 when taken, else the seconds until one is there.

    ``now_s``: Unix seconds. A clock that went back refills nothing (never a negative refill).
    """
    values = {"key": key, "capacity": capacity, "per_second": per_second, "now": now_s}
    take, read = _STATEMENTS[connection.dialect.name]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(take, values)
        if cursor.fetchone() is not None:
            return 0.0
        cursor.execute(read, {"key": key})
        tokens, at_s = cursor.fetchone()
    finally:
        cursor.close()
    have = min(capacity, float(tokens) + max(0.0, now_s - float(at_s)) * per_second)
    return max((1.0 - have) / per_second, _AT_LEAST_S)
