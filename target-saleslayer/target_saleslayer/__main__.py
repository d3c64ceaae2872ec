"""Run the target: ``python -m target_saleslayer``."""

from target_saleslayer.target import TargetSalesLayer

TargetSalesLayer.cli()
