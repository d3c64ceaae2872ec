"""Contract tests of the Sales Layer (PIM) classic connector API emulator (``connector_sandbox.saleslayer``)."""
