"""Run the tap: ``python -m tap_saleslayer``.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from tap_saleslayer.tap import TapSalesLayer

TapSalesLayer.cli()
