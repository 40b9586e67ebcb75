"""Deterministic time and ids, so two runs of a bundle author write the same bytes."""

from __future__ import annotations

import random
import string
import uuid

__all__ = ["FakeClock", "Ids"]

_CALL_ALPHABET = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_ENCRYPTED_ALPHABET = string.ascii_letters + string.digits + "-_"


class FakeClock:
    """Unix-ms clock: every read advances ``step`` ms; ``sleep`` models real gaps."""

    def __init__(self, start_ms: int, step: int = 1) -> None:
        self.now = start_ms
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now

    def sleep(self, ms: int) -> None:
        self.now += ms


class Ids:
    """Seeded ids in the spellings Codex and the Responses API use.

    ``seed`` is either a seed value or a ``random.Random`` to draw from (so a
    simulation can share one generator between ids and its other choices).
    """

    def __init__(self, seed: str | int | random.Random) -> None:
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def pick(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        """A UUID from 128 random bits, version bits as drawn."""
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def call(self) -> str:
        return "call_" + self.pick(_CALL_ALPHABET, 24)

    def response(self, n: int = 48) -> str:
        return "resp_" + self.pick(_HEX, n)

    def encrypted(self, n: int = 160) -> str:
        """An opaque ``encrypted_content`` blob (Fernet-looking)."""
        return "gAAAAABo" + self.pick(_ENCRYPTED_ALPHABET, n) + "=="

    def chunk(self) -> str:
        """A unified-exec output chunk id."""
        return self.pick(_HEX, 6)
