"""Quick hand-offs of the GIL while a helper thread streams rows to the database server.

A bulk write overlaps two threads: one streams a batch to PostgreSQL with COPY, the other hashes
the batch's leaves meanwhile. psycopg waits for the socket without the GIL, but it must take the
GIL back after each wait, for each of the 128 KiB pieces it sends (about 140 per 100,000
entries), and a thread running Python code keeps the GIL for the whole switch interval (5 ms by
default) before it hands it over. The streaming thread then idles, and the server with it: the
COPY of 1M entries took 14.2 s of server time overlapped, 11.1 s not. With a 0.2 ms interval
for the overlap it took 12.0 s, and the hashing lost no measurable time.

The interval is the process's, so overlapping writers share one setting: the first one in sets
it, the last one out restores it.
"""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["HANDOFF_INTERVAL_S", "quick_handoffs"]

HANDOFF_INTERVAL_S = 0.0002

_lock = threading.Lock()
_holders = 0
_saved_interval_s = 0.0


@contextmanager
def quick_handoffs(interval_s: float = HANDOFF_INTERVAL_S) -> Iterator[None]:
    """Within the block, a thread waiting for the GIL gets it within ``interval_s``."""
    global _holders, _saved_interval_s
    with _lock:
        if _holders == 0:
            _saved_interval_s = sys.getswitchinterval()
            sys.setswitchinterval(min(interval_s, _saved_interval_s))
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                sys.setswitchinterval(_saved_interval_s)
