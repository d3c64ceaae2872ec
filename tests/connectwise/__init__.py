"""ConnectWise Manage."""
