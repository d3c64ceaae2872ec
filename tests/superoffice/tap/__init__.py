"""tap-superoffice tests."""
