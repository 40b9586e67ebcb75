"""Reading the event log (``trace.jsonl``) from a byte offset, line by line.

Codex appends to the log while a session runs, so its end may be a record still
being written: bytes with no newline yet (the *tail*). This module yields the
complete lines and leaves the tail to the caller, with the offset to continue
from; a watcher calls :func:`read_complete_lines` again from ``next_offset``
once the file has grown, and a one-shot reader decides what the tail means.

The log is read up to its size when opened (a consistent snapshot of an
append-only file). A log that shrinks while it is read was truncated or
replaced and is reported, never half-read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

from tracegraph.bundle.files import open_regular
from tracegraph.bundle.limits import DEFAULT_LIMITS, Limits, format_bytes
from tracegraph.errors import BundleError, TraceError

__all__ = [
    "RUST_WHITESPACE",
    "EventLogReader",
    "EventLogShrankError",
    "LogChunk",
    "decode_line",
    "is_blank",
    "read_complete_lines",
]

# Rust's `str::trim` strips Unicode White_Space; Python's `str.strip()` would
# also strip U+001C..U+001F, which serde then rejects as JSON.
RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_blank(text: str) -> bool:
    """A line the reference skips: empty or only Unicode whitespace."""
    return not text.strip(RUST_WHITESPACE)


class EventLogShrankError(BundleError):
    """The log is shorter than what was already read: it was truncated or replaced."""


@dataclass(frozen=True, slots=True)
class LogChunk:
    """The complete lines read from an offset, and where to continue."""

    #: ``(line number, bytes)`` of each complete non-blank line, newline removed
    #: (1-based numbers; blank lines are skipped but counted). A line starting with
    #: ``{`` is passed on undecoded: :func:`~tracegraph.bundle.parse_event_line`
    #: checks its UTF-8 as it parses it.
    lines: tuple[tuple[int, bytes], ...]
    #: Byte offset just after the last complete line: where the next read starts.
    next_offset: int
    #: Line number of the line that starts at ``next_offset``.
    next_line: int
    #: Bytes after ``next_offset`` with no newline yet (empty when none).
    tail: bytes

    @property
    def torn(self) -> bool:
        """Whether an unfinished record (a non-blank tail) was left unread."""
        return _tail_is_torn(self.tail)


def _tail_is_torn(tail: bytes) -> bool:
    return bool(tail) and not is_blank(tail.decode("utf-8", "replace"))


class EventLogReader:
    """Iterate the complete lines of an event log from ``offset``.

    After iteration, :attr:`next_offset`, :attr:`next_line` and :attr:`tail` tell
    where the complete lines end and what unfinished bytes follow. Lines longer
    than ``limits.line_bytes`` and more than ``limits.events`` non-blank lines
    (counting ``events_before``) are refused before they are read whole.
    """

    #: Read what fits one line's limit at once (off: always line by line).
    _read_whole: ClassVar[bool] = True

    def __init__(self, path: str | Path, *, offset: int = 0, first_line: int = 1,
                 limits: Limits = DEFAULT_LIMITS, root: Path | None = None,
                 events_before: int = 0) -> None:
        self.path = Path(path)
        self.root = root if root is not None else self.path.parent.resolve()
        self.limits = limits
        self.next_offset = offset
        self.next_line = first_line
        self.events = events_before
        self.tail = b""
        #: Size of the log when it was opened: the end of this read.
        self.end = offset
        #: Whether the log grew while it was read (the new bytes are left for later).
        self.grew = False

    @property
    def torn(self) -> bool:
        return _tail_is_torn(self.tail)

    def _open(self) -> BinaryIO:
        try:
            return open_regular(self.path, root=self.root, what="trace event log")
        except IsADirectoryError as err:
            # The reference opens it and fails reading its first line.
            raise TraceError(f"read trace event line 1: {err.strerror} (os error "
                             f"{err.errno})", line=1, path=str(self.path)) from err
        except OSError as err:
            raise BundleError(
                f"{self.path}: cannot open trace event log: {err.strerror or err}"
            ) from err

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        path, limits = self.path, self.limits
        with self._open() as handle:
            end = os.fstat(handle.fileno()).st_size
            offset = self.next_offset
            if end < offset:
                raise EventLogShrankError(
                    f"{path}: trace event log is {end} bytes, shorter than the {offset} "
                    "already read: it was truncated or replaced"
                )
            if end - offset > limits.bundle_bytes:
                raise limits.exceeded("bundle-bytes",
                                      f"{path}: trace event log ({format_bytes(end - offset)})")
            self.end = end
            handle.seek(offset)
            whole = self._read_whole and end - offset <= limits.line_bytes
            data = handle.read(end - offset) if whole else b""
            if data and len(data) == end - offset:
                # No more than one line's limit: read at once, then split (far cheaper).
                yield from self._split(data)
            else:
                handle.seek(offset)
                yield from self._read_lines(handle, end)
            if os.fstat(handle.fileno()).st_size < end:
                raise BundleError(f"{path}: trace event log shrank while it was read "
                                  f"(from {end} bytes)")
            self.grew = os.fstat(handle.fileno()).st_size > end

    def _split(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """The lines of ``data``, the log from ``next_offset`` to its end, as
        :meth:`_read_lines` gives them (no line can be over the limit here)."""
        base, line, start = self.next_offset, self.next_line, 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                # The snapshot ends inside this line: an unfinished record.
                self.tail = data[start:]
                return
            content = data[start:newline - 1 if newline > start and data[newline - 1] == 13
                           else newline]
            start = newline + 1
            self.next_offset, self.next_line = base + start, line + 1
            if self._counted_event(content, line):
                yield line, content
            line += 1
            if start == len(data):
                return

    def _read_lines(self, handle: BinaryIO, end: int) -> Iterator[tuple[int, bytes]]:
        """The lines from ``next_offset`` to ``end``, one bounded read at a time."""
        path, limits = self.path, self.limits
        max_line = limits.line_bytes
        pos, line = self.next_offset, self.next_line
        while pos < end:
            # Never more than one line's limit in memory, whatever the file holds.
            raw = handle.readline(min(max_line + 2, end - pos))
            if not raw:
                raise BundleError(f"{path}: trace event log shrank while it was read "
                                  f"(expected {end} bytes, got {pos})")
            if not raw.endswith(b"\n"):
                if len(raw) > max_line:
                    raise limits.exceeded("line-bytes", f"{path}: line {line}")
                # The snapshot ends inside this line: an unfinished record.
                self.tail = raw
                break
            pos += len(raw)
            content = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            if len(content) > max_line:
                raise limits.exceeded("line-bytes", f"{path}: line {line}")
            self.next_offset, self.next_line = pos, line + 1
            if self._counted_event(content, line):
                yield line, content
            line += 1

    def _counted_event(self, content: bytes, line: int) -> bool:
        """Whether this line is an event (not blank); counts it against the limit."""
        if content[:1] != b"{" and is_blank(decode_line(content, line, self.path)):
            return False
        self.events += 1
        if self.events > self.limits.events:
            raise self.limits.exceeded("events", f"{self.path}: line {line}")
        return True


def decode_line(raw: bytes, line: int, path: Path | str) -> str:
    """An event line as text; invalid UTF-8 is the reference's error, naming the line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TraceError(
            f"read trace event line {line}: stream did not contain valid UTF-8", line=line,
            path=str(path),
        ) from err


def read_complete_lines(path: str | Path, offset: int = 0, *, first_line: int = 1,
                        limits: Limits = DEFAULT_LIMITS, root: Path | None = None,
                        events_before: int = 0) -> LogChunk:
    """The complete lines of the event log at ``path`` from byte ``offset``.

    ``first_line`` is the line number of the line starting at ``offset`` (carry
    ``next_line`` over from the previous chunk). A line with no newline yet is not
    returned: it comes back as ``tail`` and is read again, whole, next time.
    Raises :class:`EventLogShrankError` when the log is now shorter than ``offset``.
    """
    reader = EventLogReader(path, offset=offset, first_line=first_line, limits=limits,
                            root=root, events_before=events_before)
    lines = tuple(reader)
    return LogChunk(lines, reader.next_offset, reader.next_line, reader.tail)
