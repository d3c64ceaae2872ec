"""tap-tmplvendor: a Singer tap for TMPL_SYSTEM.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; read
TMPL_DOC.
"""
