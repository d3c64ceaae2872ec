"""Singer tap for Exact Online."""
