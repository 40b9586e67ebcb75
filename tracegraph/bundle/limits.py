"""Input limits: a hostile or runaway bundle is refused before it is read into memory.

Traces come from other people's machines. Each limit is checked before the bytes
it guards are read (a 5 GiB event line or a 10 GiB payload fails at once, with no
allocation), and the defaults are generous: they accept a bundle ten times the
1,500-turn benchmark rollout (``benchmarks/long_rollout.py --turns 1500``: 108 MB,
21,271 events, 17,812 payloads, largest payload 84 KB, longest line 819 bytes).

Change a limit with ``--limit NAME=VALUE`` on the command line or the environment
variable ``TRACEGRAPH_LIMIT_<NAME>`` (``-`` becomes ``_``, upper case), for example
``TRACEGRAPH_LIMIT_PAYLOAD_BYTES=2GiB``. Byte values take a ``KiB``/``MiB``/``GiB``/
``TiB`` (or ``KB``/``MB``/``GB``/``TB``) suffix.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tracegraph.errors import LimitError, TracegraphError

__all__ = [
    "DEFAULT_LIMITS",
    "ENV_PREFIX",
    "LIMIT_NAMES",
    "LimitError",
    "Limits",
    "format_bytes",
    "parse_limit_value",
]

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

#: Environment variable prefix: ``TRACEGRAPH_LIMIT_LINE_BYTES`` and so on.
ENV_PREFIX = "TRACEGRAPH_LIMIT_"


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a bundle tracegraph agrees to read (all inclusive maxima)."""

    #: Bytes of one event line of ``trace.jsonl`` (without its newline), and of
    #: ``manifest.json``. Event lines only hold references to payloads.
    line_bytes: int = 64 * MIB
    #: Bytes of one payload file (parsed whole into memory).
    payload_bytes: int = 256 * MIB
    #: Bytes of the whole bundle: the event log plus every payload file read.
    bundle_bytes: int = 16 * GIB
    #: Non-blank lines (events) of the event log.
    events: int = 10_000_000
    #: Distinct payloads the events reference.
    payloads: int = 10_000_000

    def replace(self, **changes: int) -> Limits:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by any ``TRACEGRAPH_LIMIT_*`` environment variable."""
        environ = os.environ if environ is None else environ
        changes: dict[str, int] = {}
        for name in LIMIT_NAMES:
            variable = ENV_PREFIX + name.replace("-", "_").upper()
            if variable in environ:
                changes[_field(name)] = parse_limit_value(name, environ[variable],
                                                          source=variable)
        return cls(**changes)

    def with_options(self, options: Iterable[str]) -> Limits:
        """Apply ``NAME=VALUE`` strings (the CLI's ``--limit``) over these limits."""
        changes: dict[str, int] = {}
        for option in options:
            name, sep, value = option.partition("=")
            name = name.strip().lower()
            if not sep or name not in LIMIT_NAMES:
                raise TracegraphError(
                    f"--limit {option!r}: expected NAME=VALUE with NAME one of "
                    f"{', '.join(LIMIT_NAMES)}"
                )
            changes[_field(name)] = parse_limit_value(name, value, source="--limit")
        return self.replace(**changes)

    def exceeded(self, name: str, what: str) -> LimitError:
        """The error for ``what`` (naming the file, line or count) going over limit ``name``."""
        value = getattr(self, _field(name))
        amount = format_bytes(value) if name.endswith("bytes") else f"{value:,}"
        return LimitError(what, name, f"{amount} {_DESCRIPTIONS[name]}")


#: Limit names as the CLI and the environment spell them.
LIMIT_NAMES: tuple[str, ...] = tuple(
    field.name.replace("_", "-") for field in dataclasses.fields(Limits)
)

DEFAULT_LIMITS = Limits()

_DESCRIPTIONS = {
    "line-bytes": "per event line",
    "payload-bytes": "per payload file",
    "bundle-bytes": "per bundle",
    "events": "events per bundle",
    "payloads": "payloads per bundle",
}

_SUFFIXES = {
    "": 1, "b": 1,
    "k": KIB, "kib": KIB, "m": MIB, "mib": MIB, "g": GIB, "gib": GIB, "t": GIB * KIB,
    "tib": GIB * KIB,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
}
_VALUE = re.compile(r"\s*(\d[\d_]*)\s*([a-zA-Z]*)\s*")


def _field(name: str) -> str:
    return name.replace("-", "_")


def parse_limit_value(name: str, text: str, *, source: str) -> int:
    """``"64MiB"`` -> 67108864; counts (``events``, ``payloads``) take no suffix."""
    match = _VALUE.fullmatch(text)
    suffix = match.group(2).lower() if match else ""
    if match is None or suffix not in _SUFFIXES or (suffix and not name.endswith("bytes")):
        unit = " (bytes; KiB, MiB, GiB, TiB, KB, MB, GB or TB suffix)" if name.endswith(
            "bytes") else " (a whole number)"
        raise TracegraphError(f"{source}: bad value {text!r} for limit {name}{unit}")
    value = int(match.group(1).replace("_", "")) * _SUFFIXES[suffix]
    if value < 1:
        raise TracegraphError(f"{source}: limit {name} must be at least 1")
    return value


def format_bytes(count: int) -> str:
    """``67108864`` -> ``64 MiB`` (exact binary units only, else plain bytes)."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"
