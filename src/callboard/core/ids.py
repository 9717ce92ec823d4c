"""Resource identifiers shaped like TaskRouter's SIDs: a two-letter prefix and 32 hex digits."""

from __future__ import annotations

import os

WORKSPACE = "WS"
ACTIVITY = "WA"
WORKER = "WK"
TASK_QUEUE = "WQ"
WORKFLOW = "WW"
TASK = "WT"
RESERVATION = "WR"
TASK_CHANNEL = "TC"
EVENT = "EV"
USER = "US"
TOKEN = "TK"
CALL = "CA"
CONTACT = "CT"


# Random SID bodies made ahead, 256 at a time: one getrandom() call costs as much as hex-formatting 16 bytes
# five times over, and a routing cycle makes two SIDs. A forked child starts with none (it would repeat its
# parent's), and list.pop() is atomic, so threads share the pool.
_BATCH = 256
_pool: list[str] = []
os.register_at_fork(after_in_child=_pool.clear)


def new_sid(prefix: str) -> str:
    """The prefix and 128 random bits from the OS's random source, as 32 hex digits (like uuid4().hex)."""
    while True:
        try:
            return prefix + _pool.pop()
        except IndexError:
            digits = os.urandom(16 * _BATCH).hex()
            _pool.extend([digits[i : i + 32] for i in range(0, len(digits), 32)])


def is_sid(value: str, prefix: str) -> bool:
    if len(value) != 34 or not value.startswith(prefix):
        return False
    try:
        int(value[2:], 16)
    except ValueError:
        return False
    return True
