"""Tests of the HTTP API. A package, so its conftest and helpers do not shadow same-named modules elsewhere."""
