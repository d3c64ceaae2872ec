"""Run the tap: ``python -m tap_lightspeed``."""

from tap_lightspeed.tap import main

main()
