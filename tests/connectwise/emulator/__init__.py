"""The ConnectWise emulator's contract."""
