"""TMPL_SYSTEM tests.

TODO(tmplvendor): scaffolded by scripts/dev/new_vendor.py; read TMPL_DOC.
"""
