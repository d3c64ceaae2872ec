"""Run the target: ``python -m target_connectwise``."""

from target_connectwise.target import TargetConnectWise

TargetConnectWise.cli()
