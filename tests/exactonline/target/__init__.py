"""target-exactonline against the Exact Online emulator."""
