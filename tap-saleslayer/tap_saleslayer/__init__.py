"""tap-saleslayer: a Singer tap for Sales Layer (PIM).

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
