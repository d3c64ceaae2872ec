"""Deterministic hashing that every emulator's seeded data is generated from."""

from __future__ import annotations

import hashlib

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: spreads consecutive indexes over the 64-bit space


def mix(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-distributed 64-bit hash of an int."""
    x = (x + GOLDEN) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process and on every run."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big")


def row_rand(salt: int, index: int) -> int:
    """The 64 random bits of row ``index`` of a table whose salt is ``salt`` (a pure function)."""
    return mix(salt ^ ((index * GOLDEN) & MASK))
