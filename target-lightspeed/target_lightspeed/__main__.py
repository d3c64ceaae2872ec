"""Run the target: ``python -m target_lightspeed``."""

from target_lightspeed.target import TargetLightspeed

TargetLightspeed.cli()
