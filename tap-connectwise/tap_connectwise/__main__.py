"""Run the tap: ``python -m tap_connectwise``."""

from tap_connectwise.tap import TapConnectWise

TapConnectWise.cli()
