"""TMPL_SYSTEM tests (scaffolded by scripts/dev/new_vendor.py)."""
