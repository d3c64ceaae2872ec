"""The SuperOffice emulator's contract tests."""
