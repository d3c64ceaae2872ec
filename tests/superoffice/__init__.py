"""SuperOffice CRM Online tests: tap, target and emulator."""
