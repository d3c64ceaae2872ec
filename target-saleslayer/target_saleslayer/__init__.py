"""target-saleslayer: publish records to Sales Layer (PIM).

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
