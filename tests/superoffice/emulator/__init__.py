"""Contract tests of the SuperOffice CRM Online emulator."""
