"""target-connectwise against the ConnectWise emulator."""
