"""target-superoffice tests."""
