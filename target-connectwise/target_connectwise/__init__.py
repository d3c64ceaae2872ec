"""Singer target for ConnectWise Manage (PSA)."""
