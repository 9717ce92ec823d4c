"""Callboard's SIP stack for asyncio (RFC 3261), starting with messages: parsed, printed, no I/O."""
