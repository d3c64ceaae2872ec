"""tap-superoffice: a Singer tap for SuperOffice (CRM).

TODO(superoffice): scaffolded by ``scripts/dev/new_vendor.py``; read
shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
