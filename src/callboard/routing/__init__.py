"""The ACD routing engine: pure, deterministic, takes a clock, does no I/O."""
