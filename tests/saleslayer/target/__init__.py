"""target-saleslayer tests, against the Sales Layer emulator's Import connector."""
