"""Lightspeed Retail X-Series tests."""
