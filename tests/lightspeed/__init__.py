"""Lightspeed (retail POS) tests.

TODO(lightspeed): scaffolded by scripts/dev/new_vendor.py; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
