"""Follow a growing ``trace.jsonl``: the complete lines appended since the last read.

Lines are read by :func:`tracegraph.bundle.log.read_complete_lines` (limits,
regular files only); a torn final line is left for a later read. A final line
without its newline that already holds one whole JSON object or array is
complete (no longer text can start with a whole JSON document and still be
valid), so a session that died just before writing the newline still shows its
last event; whatever follows it on that line must be blank.

Between reads the tail remembers where it stopped, the file's identity and the
last bytes it read, so a log that was truncated, replaced or rewritten is
noticed and the caller can start again from scratch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tracegraph.bundle.limits import DEFAULT_LIMITS, Limits
from tracegraph.bundle.log import EventLogShrankError, is_blank, read_complete_lines
from tracegraph.bundle.serde_syntax import is_cut_short
from tracegraph.errors import TraceError

__all__ = ["LogTail", "TailRead"]

#: Bytes before the read offset that must not change between reads.
GUARD_BYTES = 64


@dataclass(frozen=True, slots=True)
class TailRead:
    """What one read found: new complete non-blank lines, or why to start over."""

    #: ``(1-based line number, bytes)`` of each new non-blank line, newline removed,
    #: in file order (the event parser checks their UTF-8).
    lines: list[tuple[int, bytes]] = field(default_factory=list)
    #: Set when the log no longer continues what was read: truncated, replaced, rewritten.
    reset: str | None = None
    #: Bytes of a torn final line left for a later read.
    pending_bytes: int = 0


class LogTail:
    """Follows one event log from byte 0, line by line, across appends."""

    def __init__(self, path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        #: Bytes consumed so far (whole lines, plus a complete line missing its newline).
        self.offset = 0
        #: Number of the last line consumed (blank lines count, as in the reducer).
        self.line = 0
        #: Non-blank lines consumed (the event-count limit counts them).
        self.events = 0
        self._identity: tuple[int, int] | None = None
        self._guard = b""
        #: The last consumed line had no newline yet: what follows continues it.
        self._open_line = False

    def read(self) -> TailRead:
        """The complete lines appended since the last read."""
        reset = self.check()
        if reset is not None:
            return TailRead(reset=reset)
        if not self.path.exists() and not self.offset:
            return TailRead()
        # A line left open continues at the same number (its rest must be blank).
        first = self.line if self._open_line else self.line + 1
        try:
            chunk = read_complete_lines(self.path, self.offset, first_line=first,
                                        limits=self.limits, events_before=self.events)
        except EventLogShrankError:
            return TailRead(reset="event log truncated")
        lines = list(chunk.lines)
        if self._open_line and chunk.next_offset > self.offset:
            if lines and lines[0][0] == self.line:
                raise TraceError("parse trace event line: trailing characters after the event",
                                 line=self.line, path=str(self.path))
            self._open_line = False
        offset, line = chunk.next_offset, chunk.next_line - 1
        tail = chunk.tail
        if self._open_line and tail:
            if not is_blank(tail.decode("utf-8", "replace")):
                raise TraceError("parse trace event line: trailing characters after the event",
                                 line=self.line, path=str(self.path))
            offset, tail = offset + len(tail), b""
        elif tail and (_is_whole_document(tail) or not is_cut_short(tail)):
            # A whole document is an event; bytes no write in progress leaves (not the
            # start of a JSON text cut off) are a bad line. Either way it is read now.
            line += 1
            lines.append((line, tail.rstrip(b" \t\r\x0b\x0c")))
            offset, tail = offset + len(tail), b""
            self._open_line = True
        self.events += len(lines)
        self._advance(offset)
        self.line = line
        return TailRead(lines, pending_bytes=len(tail))

    def check(self) -> str | None:
        """Why the log no longer continues what was read (truncated, replaced...), or None."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return "event log removed" if self.offset else None
        with handle:
            return self._discontinuity(handle)

    def _discontinuity(self, handle: BinaryIO) -> str | None:
        stat = os.fstat(handle.fileno())
        identity = (stat.st_dev, stat.st_ino)
        if self._identity is not None and identity != self._identity and self.offset:
            return "event log replaced"
        if stat.st_size < self.offset:
            return "event log truncated"
        if self._guard:
            handle.seek(self.offset - len(self._guard))
            if handle.read(len(self._guard)) != self._guard:
                return "event log rewritten"
        self._identity = identity
        return None

    def _advance(self, offset: int) -> None:
        """Move to ``offset``, keeping the bytes just before it as the guard."""
        if offset == self.offset:
            return
        start = max(0, offset - GUARD_BYTES)
        with self.path.open("rb") as handle:
            handle.seek(start)
            self._guard = handle.read(offset - start)
        self.offset = offset


def _is_whole_document(raw: bytes) -> bool:
    """A torn line is complete when it already holds one whole JSON object or array."""
    text = raw.strip(b" \t\r\x0b\x0c")
    if text[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True
