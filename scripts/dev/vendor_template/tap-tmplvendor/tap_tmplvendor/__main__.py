"""Run the tap: ``python -m tap_tmplvendor``.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; read
TMPL_DOC.
"""

from tap_tmplvendor.tap import TapTmplVendor

TapTmplVendor.cli()
