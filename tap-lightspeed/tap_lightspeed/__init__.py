"""tap-lightspeed: a Singer tap for Lightspeed Retail X-Series (API 2.0)."""
