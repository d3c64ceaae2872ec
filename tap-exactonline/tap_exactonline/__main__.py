"""Run the tap: ``python -m tap_exactonline``."""

from tap_exactonline.tap import main

main()
