"""Run the target: ``python -m target_tmplvendor``."""

from target_tmplvendor.target import TargetTmplVendor

TargetTmplVendor.cli()
