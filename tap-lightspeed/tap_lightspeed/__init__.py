"""tap-lightspeed: a Singer tap for Lightspeed (retail POS).

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
