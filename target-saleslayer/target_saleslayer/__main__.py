"""Run the target: ``python -m target_saleslayer``.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from target_saleslayer.target import TargetSalesLayer

TargetSalesLayer.cli()
