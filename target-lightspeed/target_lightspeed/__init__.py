"""target-lightspeed: publish records to Lightspeed Retail X-Series."""
