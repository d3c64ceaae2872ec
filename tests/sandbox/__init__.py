"""The emulator kit on its own."""
