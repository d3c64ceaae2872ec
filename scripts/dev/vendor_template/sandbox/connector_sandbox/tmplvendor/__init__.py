"""TMPL_SYSTEM API emulator (scaffolded: TODO(tmplvendor), see emulator.py)."""

from .emulator import DEFAULT_API_KEY, TmplVendorSandbox

__all__ = ["DEFAULT_API_KEY", "TmplVendorSandbox"]
