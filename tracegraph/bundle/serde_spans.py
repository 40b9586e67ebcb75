"""Byte spans of a JSON document's values, for placing errors as serde_json places them.

Only error paths use this (``serde_typed``): the document has been parsed once
already, and is read again here with every value's start and end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tracegraph.bundle.serde_json import MAX_NESTING
from tracegraph.bundle.serde_number import parse_number

__all__ = ["WHITESPACE", "NotJson", "SpanNode", "position", "read_spans", "stop_of"]

#: What serde_json skips as whitespace.
WHITESPACE = b" \t\n\r"


class NotJson(ValueError):
    """The text is not JSON this reader follows."""


@dataclass(slots=True)
class SpanNode:
    """One JSON value of the document, with its byte span."""

    kind: str  # "object", "array", "string", "integer", "float", "boolean", "null"
    start: int
    end: int
    #: Objects: (key, end of the key token, value) in document order; arrays: values.
    entries: list[tuple[str, int, SpanNode]] | None = None
    items: list[SpanNode] | None = None
    value: Any = None
    #: A container serde would not enter (nested too deeply): no entries or items.
    deep: bool = False
    #: The value runs into a syntax error (kind ``"broken"`` if it is no value yet),
    #: as does every container around it: serde stops there, reading nothing after.
    broken: bool = False

    def holds_deep(self) -> bool:
        """Whether reading all of this value would pass serde's recursion limit."""
        pending = [self]
        while pending:
            node = pending.pop()
            if node.deep:
                return True
            pending.extend(child for _, _, child in node.entries or ())
            pending.extend(node.items or ())
        return False

    def describe(self) -> str:
        return {"object": "map", "array": "sequence", "float": "floating point"}.get(
            self.kind, self.kind)


def _matching_close(data: bytes, start: int) -> int:
    """The index after the bracket that closes the one at ``start`` (strings skipped)."""
    depth, index = 0, start
    while True:
        byte = data[index]
        if byte == 0x22:  # a string: to its closing quote, escapes skipped
            index += 1
            while data[index] != 0x22:
                index += 2 if data[index] == 0x5C else 1
        elif byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1


#: A JSON number token (the reader without a stop trusts the text to be valid).
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class _Cut(Exception):
    """Reading reached the stop (a syntax error): ``node`` is what was read of the value."""

    def __init__(self, node: SpanNode) -> None:
        super().__init__("cut")
        self.node = node


class _Spans:
    """A recursive-descent reader of valid JSON that keeps every value's byte span.

    With a ``stop``, the text is valid only before it (serde met a syntax error
    there): the value that reaches the stop, and each container around it, comes
    back ``broken`` with what was read of it.
    """

    def __init__(self, data: bytes, stop: int | None = None) -> None:
        self.whole = len(data)
        self.tolerant = stop is not None
        self.data = data if stop is None else data[:stop]
        self.index = 0

    def skip_whitespace(self) -> None:
        data, index = self.data, self.index
        while index < len(data) and data[index] in WHITESPACE:
            index += 1
        self.index = index

    def _cut(self, node: SpanNode) -> _Cut:
        node.broken = True
        node.end = len(self.data)
        return _Cut(node)

    def read(self, depth: int = 0) -> SpanNode:
        """The value at the reading position; ``depth`` containers enclose it."""
        self.skip_whitespace()
        start = self.index
        if not self.tolerant:
            return self._read(depth)
        try:
            return self._read(depth)
        except (ValueError, IndexError):
            # A scalar (or a key) cut short or malformed at the stop.
            raise self._cut(SpanNode("broken", start, start)) from None

    def _read(self, depth: int) -> SpanNode:
        data, start = self.data, self.index
        head = data[start:start + 1]
        if head in (b"{", b"[") and depth + 1 >= MAX_NESTING:
            # serde refuses to enter it (its recursion limit), so only its kind counts.
            node = SpanNode("object" if head == b"{" else "array", start, start, deep=True)
            try:
                self.index = node.end = _matching_close(data, start)
            except IndexError:
                if not self.tolerant:
                    raise
                raise self._cut(node) from None
            return node
        if head == b"{":
            return self._object(depth)
        if head == b"[":
            return self._array(depth)
        if head == b'"':
            return self._string()
        for literal, kind, value in ((b"true", "boolean", True), (b"false", "boolean", False),
                                     (b"null", "null", None)):
            if data.startswith(literal, start):
                self.index += len(literal)
                return SpanNode(kind, start, self.index, value=value)
        if self.tolerant:
            end = self._number_end(start)
        else:
            end = start
            while end < len(data) and data[end] in b"+-.0123456789eE":
                end += 1
        if end == start:
            raise NotJson("not JSON")
        self.index = end
        number = parse_number(data[start:end].decode("ascii"))
        return SpanNode("float" if isinstance(number, float) else "integer", start, end,
                        value=number)

    def _number_end(self, start: int) -> int:
        """Where serde's number token ends, in text that may be broken; ``start`` if
        serde would refuse it (or it runs into the stop, where it may go on)."""
        data = self.data
        found = _NUMBER.match(data, start)
        if found is None:
            return start
        end = found.end()
        if end < len(data) and data[end] in b".eE0123456789":
            return start  # serde reads on into it and refuses the number
        if end == len(data) < self.whole:
            return start
        return end

    def _refuse(self, node: SpanNode) -> Exception:
        """Text that is not JSON at the reading position, inside ``node``."""
        return self._cut(node) if self.tolerant else NotJson("not JSON")

    def _closes(self, node: SpanNode, close: bytes, *, first: bool) -> bool:
        """Whether ``node`` ends here (with ``close``); else a ``,`` is passed, unless
        this is the ``first`` member's place, where nothing is passed."""
        self.skip_whitespace()
        found = self.data[self.index:self.index + 1]
        if found == close:
            self.index += 1
            node.end = self.index
            return True
        if not first:
            if found != b",":
                raise self._refuse(node)
            self.index += 1
        return False

    def _object(self, depth: int) -> SpanNode:
        entries: list[tuple[str, int, SpanNode]] = []
        node = SpanNode("object", self.index, self.index, entries=entries)
        self.index += 1
        if self._closes(node, b"}", first=True):
            return node
        while True:
            self.skip_whitespace()
            try:
                key = self._string()
            except (ValueError, IndexError):
                raise self._refuse(node) from None
            key_end = self.index
            self.skip_whitespace()
            if self.data[self.index:self.index + 1] != b":":
                # serde takes the key (a repeated field is refused) before the `:`.
                entries.append((key.value, key_end, SpanNode("broken", key_end, key_end)))
                raise self._refuse(node)
            self.index += 1
            try:
                child = self.read(depth + 1)
            except _Cut as cut:
                entries.append((key.value, key_end, cut.node))
                raise self._cut(node) from None
            entries.append((key.value, key_end, child))
            if self._closes(node, b"}", first=False):
                return node

    def _array(self, depth: int) -> SpanNode:
        items: list[SpanNode] = []
        node = SpanNode("array", self.index, self.index, items=items)
        self.index += 1
        if self._closes(node, b"]", first=True):
            return node
        while True:
            try:
                items.append(self.read(depth + 1))
            except _Cut as cut:
                items.append(cut.node)
                raise self._cut(node) from None
            if self._closes(node, b"]", first=False):
                return node

    def _string(self) -> SpanNode:
        data, start = self.data, self.index
        if data[start:start + 1] != b'"':
            raise NotJson("not JSON")
        index = start + 1
        while True:
            index = data.index(b'"', index)
            backslashes = 0
            while data[index - 1 - backslashes] == 0x5C:
                backslashes += 1
            index += 1
            if backslashes % 2 == 0:
                break
        self.index = index
        return SpanNode("string", start, index,
                        value=json.loads(data[start:index].decode("utf-8", "surrogatepass")))


def read_spans(data: bytes, *, stop: int | None = None) -> SpanNode:
    """The document's top-level value, with the spans of everything in it.

    ``stop``: the byte index of a syntax error; the text before it is read as far
    as it goes (see :attr:`SpanNode.broken`), nothing from the stop on.
    """
    reader = _Spans(data, stop)
    try:
        return reader.read()
    except _Cut as cut:
        return cut.node


_NEWLINE = b"\n"


def position(data: bytes, index: int) -> str:
    # serde_json's position_of_index: lines from 1, columns in bytes from the line start.
    line_start = data.rfind(_NEWLINE, 0, index) + 1
    return f"line {data.count(_NEWLINE, 0, line_start) + 1} column {index - line_start}"


_POSITION = re.compile(r" at line (\d+) column (\d+)$")


def stop_of(data: bytes, words: str) -> int | None:
    """The byte index just past where serde's error ``words`` (ending ``at line L
    column C``) is placed: the bytes before it are what serde had read, or peeked at."""
    found = _POSITION.search(words)
    if found is None:
        return None
    line, column = int(found.group(1)), int(found.group(2))
    line_start = 0
    for _ in range(line - 1):
        line_start = data.find(_NEWLINE, line_start) + 1
        if line_start == 0:
            return None
    return min(line_start + column, len(data))
