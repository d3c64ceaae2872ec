"""target-exactonline: a Singer target for Exact Online."""
