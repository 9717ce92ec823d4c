"""Resource identifiers shaped like TaskRouter's SIDs: a two-letter prefix and 32 hex digits."""

from __future__ import annotations

import uuid

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


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def is_sid(value: str, prefix: str) -> bool:
    if len(value) != 34 or not value.startswith(prefix):
        return False
    try:
        int(value[2:], 16)
    except ValueError:
        return False
    return True
