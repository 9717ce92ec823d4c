"""Shared foundations: ids, clocks, events and errors. Depends on nothing else in Callboard."""
