"""Sales Layer (PIM) tests.

TODO(saleslayer): scaffolded by scripts/dev/new_vendor.py; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
