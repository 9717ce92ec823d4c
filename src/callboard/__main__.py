"""`python -m callboard` runs the command line."""

from callboard.app.cli import main

main()
