"""target-lightspeed: publish records to Lightspeed (retail POS).

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
