"""Run the tap: ``python -m tap_tmplvendor``."""

from tap_tmplvendor.tap import TapTmplVendor

TapTmplVendor.cli()
