"""TMPL_SYSTEM API emulator.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; read
TMPL_DOC.
"""

from .emulator import DEFAULT_API_KEY, TmplVendorSandbox

__all__ = ["DEFAULT_API_KEY", "TmplVendorSandbox"]
