"""Exact Online."""
