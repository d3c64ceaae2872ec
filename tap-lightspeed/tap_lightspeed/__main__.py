"""Run the tap: ``python -m tap_lightspeed``.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from tap_lightspeed.tap import TapLightspeed

TapLightspeed.cli()
