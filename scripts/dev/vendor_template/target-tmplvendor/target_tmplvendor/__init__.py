"""target-tmplvendor: publish records to TMPL_SYSTEM."""
