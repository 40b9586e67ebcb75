"""Replay that grows one event line at a time, with a snapshot after any of them.

A thin layer over :class:`~tracegraph.reducer.Replayer`: it parses the text
lines the watcher reads and follows ``auto`` dialect detection as the log grows.
"""

from __future__ import annotations

import json
from pathlib import Path

from tracegraph.bundle.events import (
    UPSTREAM_EVENT_FIELDS,
    UPSTREAM_EVENT_TYPES,
    upstream_event_evidence,
)
from tracegraph.bundle.limits import DEFAULT_LIMITS, Limits
from tracegraph.bundle.reader import EventLine, SkippedEvent, TraceBundle, parse_event_line
from tracegraph.errors import TracegraphError
from tracegraph.model.dialect import Dialect
from tracegraph.reducer import Replay, Replayer

__all__ = ["DialectChange", "IncrementalReplay", "upstream_evidence"]

#: Names only upstream lines hold: a line without any of them needs no parsing.
_UPSTREAM_NAMES = tuple(name.encode() for name in (
    *UPSTREAM_EVENT_TYPES, *(name for _, name, _ in UPSTREAM_EVENT_FIELDS)))


class DialectChange(TracegraphError):
    """``auto`` replayed as seed so far, and this line shows the upstream format."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"dialect upstream ({reason})")


def upstream_evidence(line: int, raw: bytes) -> str | None:
    """Why this event line shows the upstream format (as ``detect_dialect`` says), or None."""
    if not any(name in raw for name in _UPSTREAM_NAMES):
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    payload = value.get("payload") if isinstance(value, dict) else None
    if not isinstance(payload, dict):
        return None
    reason = upstream_event_evidence(payload)
    return None if reason is None else f"line {line}: {reason}"


class IncrementalReplay:
    """The replay of one bundle, fed its event lines in order as they appear.

    ``dialect`` ``auto`` replays as seed until a line shows newer-format evidence;
    then :meth:`apply` raises :class:`DialectChange` and the caller starts again
    as upstream (``dialect="upstream"``, ``reason`` from the exception), which is
    what a one-shot replay of the longer log would have chosen.
    """

    def __init__(self, path: str | Path, *, dialect: Dialect | str = "auto",
                 lenient: bool = False, reason: str | None = None,
                 limits: Limits = DEFAULT_LIMITS, track_changes: bool = False) -> None:
        self.bundle = TraceBundle(path, limits=limits)
        self._auto = str(dialect) == "auto"
        self.dialect = Dialect.SEED if self._auto else Dialect(dialect)
        self._replayer = Replayer(
            self.bundle, self.dialect, lenient,
            dialect_reason=reason or ("no newer-format evidence" if self._auto
                                      else "requested"))
        self._skipped: list[SkippedEvent] | None = self._replayer.skip_sink()
        if track_changes:
            self._replayer.track_changes()
        self._log = str(self.bundle.event_log_path)
        #: Events applied (skipped unknown events not counted) and the last seq seen.
        self.events = 0
        self.last_seq: int | None = None

    def apply(self, line: int, raw: bytes) -> None:
        """Reduce one event line (bytes, newline removed); errors name the line and seq,
        as a full replay does."""
        if self._auto:
            evidence = upstream_evidence(line, raw)
            if evidence is not None:
                raise DialectChange(evidence)
        event = parse_event_line(raw, line=line, path=self._log, dialect=self.dialect,
                                 skipped=self._skipped)
        if event is None:
            return
        event_line = EventLine(line, event)
        if self._skipped is not None and self._replayer.needs_skipped(event_line):
            return  # it names what an event skipped for its variant had (lenient)
        self._replayer.apply(event_line)
        self.events += 1
        self.last_seq = event.seq

    def snapshot(self) -> Replay:
        """The trace as a replay ending here would return it; replay goes on unchanged.

        The trace shares objects with the live state (no copy): use it (project
        it) before the next :meth:`apply`.
        """
        return self._replayer.snapshot(isolated=False)

    def take_changes(self) -> dict[str, set[str]] | None:
        """Keys of the objects reached since the last call, per trace map (``None``
        without ``track_changes``): see ``Replayer.take_changes``."""
        return self._replayer.take_changes()
