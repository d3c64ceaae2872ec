"""Run the tap: ``python -m tap_saleslayer``."""

from tap_saleslayer.tap import main

main()
