"""Run the tap: ``python -m tap_superoffice`` (``authorize`` included)."""

from tap_superoffice.tap import main

main()
