"""Byte spans of a JSON document's values, for placing errors as serde_json places them.

Only error paths use this (``serde_typed``): the document has been parsed once
already, and is read again here with every value's start and end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tracegraph.bundle.serde_json import MAX_NESTING
from tracegraph.bundle.serde_number import parse_number

__all__ = ["WHITESPACE", "NotJson", "SpanNode", "position", "read_spans"]

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


class _Spans:
    """A recursive-descent reader of valid JSON that keeps every value's byte span."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.index = 0

    def skip_whitespace(self) -> None:
        data, index = self.data, self.index
        while index < len(data) and data[index] in WHITESPACE:
            index += 1
        self.index = index

    def read(self, depth: int = 0) -> SpanNode:
        """The value at the reading position; ``depth`` containers enclose it."""
        self.skip_whitespace()
        data, start = self.data, self.index
        head = data[start:start + 1]
        if head in (b"{", b"[") and depth + 1 >= MAX_NESTING:
            # serde refuses to enter it (its recursion limit), so only its kind counts.
            self.index = _matching_close(data, start)
            return SpanNode("object" if head == b"{" else "array", start, self.index, deep=True)
        if head == b"{":
            self.index += 1
            entries: list[tuple[str, int, SpanNode]] = []
            self.skip_whitespace()
            if data[self.index:self.index + 1] == b"}":
                self.index += 1
                return SpanNode("object", start, self.index, entries=entries)
            while True:
                self.skip_whitespace()
                key = self._string()
                key_end = self.index
                self.skip_whitespace()
                self.index += 1  # ':'
                entries.append((key.value, key_end, self.read(depth + 1)))
                self.skip_whitespace()
                separator = data[self.index:self.index + 1]
                self.index += 1
                if separator == b"}":
                    return SpanNode("object", start, self.index, entries=entries)
        if head == b"[":
            self.index += 1
            items: list[SpanNode] = []
            self.skip_whitespace()
            if data[self.index:self.index + 1] == b"]":
                self.index += 1
                return SpanNode("array", start, self.index, items=items)
            while True:
                items.append(self.read(depth + 1))
                self.skip_whitespace()
                separator = data[self.index:self.index + 1]
                self.index += 1
                if separator == b"]":
                    return SpanNode("array", start, self.index, items=items)
        if head == b'"':
            return self._string()
        for literal, kind, value in ((b"true", "boolean", True), (b"false", "boolean", False),
                                     (b"null", "null", None)):
            if data.startswith(literal, start):
                self.index += len(literal)
                return SpanNode(kind, start, self.index, value=value)
        end = start
        while end < len(data) and data[end] in b"+-.0123456789eE":
            end += 1
        if end == start:
            raise NotJson("not JSON")
        self.index = end
        number = parse_number(data[start:end].decode("ascii"))
        return SpanNode("float" if isinstance(number, float) else "integer", start, end,
                     value=number)

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




def read_spans(data: bytes) -> SpanNode:
    """The document's top-level value, with the spans of everything in it."""
    return _Spans(data).read()


_NEWLINE = b"\n"


def position(data: bytes, index: int) -> str:
    # serde_json's position_of_index: lines from 1, columns in bytes from the line start.
    line_start = data.rfind(_NEWLINE, 0, index) + 1
    return f"line {data.count(_NEWLINE, 0, line_start) + 1} column {index - line_start}"
