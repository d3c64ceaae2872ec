"""Run the tap: ``python -m tap_superoffice``.

TODO(superoffice): scaffolded by ``scripts/dev/new_vendor.py``; read
shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from tap_superoffice.tap import TapSuperOffice

TapSuperOffice.cli()
