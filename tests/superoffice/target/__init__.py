"""SuperOffice (CRM) tests.

TODO(superoffice): scaffolded by scripts/dev/new_vendor.py; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""
