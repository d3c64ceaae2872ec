"""Run the target: ``python -m target_superoffice``.

TODO(superoffice): scaffolded by ``scripts/dev/new_vendor.py``; read
shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from target_superoffice.target import TargetSuperOffice

TargetSuperOffice.cli()
