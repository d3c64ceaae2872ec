"""The test suite: one package per vendor (tap, target, emulator), the shared library (core) and the
emulator kit (sandbox)."""
