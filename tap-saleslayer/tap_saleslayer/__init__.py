"""tap-saleslayer: a Singer tap for Sales Layer (PIM), through an export connector of the classic API."""
