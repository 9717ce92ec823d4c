"""The composition root: builds every part, starts and stops them; the CLI."""
