"""Run the target: ``python -m target_lightspeed``.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from target_lightspeed.target import TargetLightspeed

TargetLightspeed.cli()
