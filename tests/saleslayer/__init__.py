"""Sales Layer (PIM) tests: the emulator's contract (``emulator/``), the tap, the target and their Meltano runs.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 (classic connector API 1.17 / 1.18).
"""
