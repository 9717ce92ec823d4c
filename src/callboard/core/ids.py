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


def new_sid(prefix: str) -> str:
    # 128 random bits as 32 hex digits, like uuid4().hex but a quarter of the cost (no UUID object).
    return prefix + os.urandom(16).hex()


def is_sid(value: str, prefix: str) -> bool:
    if len(value) != 34 or not value.startswith(prefix):
        return False
    try:
        int(value[2:], 16)
    except ValueError:
        return False
    return True
