"""tap-connectwise against the ConnectWise emulator."""
