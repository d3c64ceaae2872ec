"""tap-exactonline against the Exact Online emulator."""
