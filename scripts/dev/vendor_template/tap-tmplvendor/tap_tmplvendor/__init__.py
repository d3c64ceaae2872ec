"""tap-tmplvendor: a Singer tap for TMPL_SYSTEM."""
