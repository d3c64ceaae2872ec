"""Run the target: ``python -m target_tmplvendor``.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; read
TMPL_DOC.
"""

from target_tmplvendor.target import TargetTmplVendor

TargetTmplVendor.cli()
