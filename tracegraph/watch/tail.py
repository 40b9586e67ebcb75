"""Read the complete event lines appended to a growing ``trace.jsonl``.

The writer appends one JSON line per event and flushes it, but a reader can
still catch a line half-written. Only complete lines are returned; a torn
final line stays unread until it is finished. A final line without its newline
that already holds a whole JSON object or array is complete (no longer text
can start with a whole JSON document and still be valid), so a session that
died just before writing the newline still shows its last event.

Between reads the tail remembers where it stopped, the file's identity and
the last bytes it read, so a log that was truncated, replaced or rewritten is
noticed and the caller can start again from scratch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tracegraph.bundle.reader import _RUST_WHITESPACE
from tracegraph.errors import TraceError

__all__ = ["LogTail", "TailRead"]

#: Bytes before the read offset that must not change between reads.
GUARD_BYTES = 64
#: Rust's ``str::trim`` whitespace, as bytes that can appear in ASCII (blank lines).
_BLANK = b" \t\r\n\x0b\x0c"


@dataclass(frozen=True, slots=True)
class TailRead:
    """What one read found: new complete non-blank lines, or why to start over."""

    #: ``(1-based line number, text)`` of each new non-blank line, in file order.
    lines: list[tuple[int, str]] = field(default_factory=list)
    #: Set when the log no longer continues what was read: truncated, replaced, rewritten.
    reset: str | None = None
    #: Bytes of a torn final line left for a later read.
    pending_bytes: int = 0


class LogTail:
    """Follows one event log from byte 0, line by line, across appends."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: Bytes consumed so far (whole lines, plus a complete line missing its newline).
        self.offset = 0
        #: Number of the last line consumed (blank lines count, as in the reducer).
        self.line = 0
        self._identity: tuple[int, int] | None = None
        self._guard = b""
        #: The last consumed line had no newline yet: what follows continues it.
        self._open_line = False

    def read(self) -> TailRead:
        """The complete lines appended since the last read."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            if self.offset:
                return TailRead(reset="event log removed")
            return TailRead()
        with handle:
            reset = self._discontinuity(handle)
            if reset is not None:
                return TailRead(reset=reset)
            handle.seek(self.offset)
            data = handle.read()
        lines: list[tuple[int, str]] = []
        start = 0
        if self._open_line and data:
            start = self._continue_open_line(data)
        while start < len(data):
            end = data.find(b"\n", start)
            if end < 0:
                break
            self.line += 1
            self._take(lines, data[start:end], self.line)
            start = end + 1
        rest = data[start:]
        if rest and _is_whole_document(rest):
            self.line += 1
            self._take(lines, rest, self.line)
            start = len(data)
            self._open_line = True
        consumed = data[:start]
        if consumed:
            self.offset += len(consumed)
            self._guard = (self._guard + consumed)[-GUARD_BYTES:]
        return TailRead(lines, pending_bytes=len(data) - start)

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

    def _continue_open_line(self, data: bytes) -> int:
        """Consume what follows a complete line that had no newline: blanks, then ``\\n``."""
        end = data.find(b"\n")
        cut = len(data) if end < 0 else end
        if data[:cut].strip(_BLANK):
            raise TraceError("parse trace event line: trailing characters after the event",
                             line=self.line, path=str(self.path))
        if end >= 0:
            self._open_line = False
            return end + 1
        return len(data)

    def _take(self, lines: list[tuple[int, str]], raw: bytes, number: int) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise TraceError("read trace event line: stream did not contain valid UTF-8",
                             line=number, path=str(self.path)) from err
        if text.strip(_RUST_WHITESPACE):
            lines.append((number, text))


def _is_whole_document(raw: bytes) -> bool:
    """A torn line is complete when it already holds one whole JSON object or array."""
    text = raw.strip(_BLANK)
    if not text or text[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return False
    return True
