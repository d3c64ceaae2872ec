"""Singer tap for ConnectWise Manage (PSA)."""
