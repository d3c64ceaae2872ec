"""The Exact Online emulator's contract."""
