"""connector-core on its own."""
