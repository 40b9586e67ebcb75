"""serde_json's syntax errors, worded and placed exactly as serde_json reports them.

The reference reducer is built with serde_json 1.0.87. When it cannot parse a
document into a ``serde_json::Value`` its error reads ``<message> at line L
column C``; :func:`syntax_error` replays serde_json's parser over the bytes to
produce that same string (the exact path in ``serde_json.py`` only knows
Python's wording). It runs only on the error path: it is written to mirror
serde_json's code (``de.rs``, ``read.rs``) step by step rather than to be fast,
but it is linear in the input and keeps its nesting on an explicit stack.

Two things decide where serde_json says an error is:

- which reader it parses with. Payloads and the manifest are read from a file
  (``from_reader``: an ``IoRead``), event lines and function arguments from a
  string (``from_str``: a ``SliceRead``). An ``IoRead`` has already pulled the
  byte it peeked at, so its position always counts it; a ``SliceRead`` counts a
  peeked byte only for errors raised with ``peek_error``.
- lines and columns count bytes, not characters; column 0 means "just after a
  newline".

Messages never quote the document (trace content can hold secrets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "MAX_DEPTH",
    "SkippedValueError",
    "Source",
    "is_cut_short",
    "skipped_value_end",
    "syntax_error",
]

#: ``"reader"``: ``serde_json::from_reader`` (a file); ``"slice"``:
#: ``from_slice``/``from_str`` (bytes or text already in memory).
Source = Literal["reader", "slice"]

#: serde_json's recursion limit: the 128th nested ``[``/``{`` is refused.
MAX_DEPTH: Final = 128

# serde_json's ErrorCode Display strings (error.rs).
EOF_LIST: Final = "EOF while parsing a list"
EOF_OBJECT: Final = "EOF while parsing an object"
EOF_STRING: Final = "EOF while parsing a string"
EOF_VALUE: Final = "EOF while parsing a value"
_EOF_WHILE_PARSING: Final = "EOF while parsing"
EXPECTED_COLON: Final = "expected `:`"
EXPECTED_LIST_COMMA_OR_END: Final = "expected `,` or `]`"
EXPECTED_OBJECT_COMMA_OR_END: Final = "expected `,` or `}`"
EXPECTED_IDENT: Final = "expected ident"
EXPECTED_VALUE: Final = "expected value"
INVALID_ESCAPE: Final = "invalid escape"
INVALID_NUMBER: Final = "invalid number"
NUMBER_OUT_OF_RANGE: Final = "number out of range"
INVALID_CODE_POINT: Final = "invalid unicode code point"
CONTROL_CHARACTER: Final = "control character (\\u0000-\\u001F) found while parsing a string"
KEY_MUST_BE_A_STRING: Final = "key must be a string"
LONE_LEADING_SURROGATE: Final = "lone leading surrogate in hex escape"
TRAILING_COMMA: Final = "trailing comma"
TRAILING_CHARACTERS: Final = "trailing characters"
UNEXPECTED_END_OF_HEX_ESCAPE: Final = "unexpected end of hex escape"
RECURSION_LIMIT: Final = "recursion limit exceeded"

_U64_MAX: Final = 2**64 - 1
_I32_MAX: Final = 2**31 - 1
_I32_MIN: Final = -(2**31)
_POW10: Final = [float(f"1e{i}") for i in range(309)]

# The only whitespace serde_json skips (no BOM, no other Unicode spaces).
_WHITESPACE: Final = re.compile(rb"[ \t\n\r]*")
# A run of string bytes with no meaning to the parser (not `"`, `\` or a control byte).
_PLAIN: Final = re.compile(rb'[^"\\\x00-\x1f]*')
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
_DIGITS: Final = frozenset(b"0123456789")
_SIMPLE_ESCAPES: Final = frozenset(b'"\\/bfnrt')
#: ``null``, ``true``, ``false``: the bytes after the first.
_IDENTS: Final = {ord("n"): b"ull", ord("t"): b"rue", ord("f"): b"alse"}


class _SyntaxError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _overflows(value: int, digit: int, limit: int) -> bool:
    """serde_json's ``overflow!(value * 10 + digit, limit)``."""
    return value >= limit // 10 and (value > limit // 10 or digit > limit % 10)


@dataclass
class _Container:
    is_object: bool
    first: bool = True


@dataclass
class _Parser:
    data: bytes
    #: ``"reader"`` (IoRead) or ``"slice"`` (SliceRead/StrRead).
    source: Source
    #: The next byte ``next()`` or ``peek()`` returns.
    index: int = 0
    #: IoRead only: the byte at ``index`` has been pulled from the stream by a peek.
    peeked: bool = False
    stack: list[_Container] = field(default_factory=list)

    # -- the Read trait ------------------------------------------------------------

    def peek(self) -> int | None:
        if self.index < len(self.data):
            self.peeked = True
            return self.data[self.index]
        return None

    def peek_or_null(self) -> int:
        byte = self.peek()
        return 0 if byte is None else byte

    def next(self) -> int | None:
        if self.index < len(self.data):
            self.index += 1
            self.peeked = False
            return self.data[self.index - 1]
        return None

    def discard(self) -> None:
        self.index += 1
        self.peeked = False

    def error(self, message: str) -> _SyntaxError:
        """``Error::syntax`` at ``read.position()``: where the last byte was read."""
        # An IoRead has already pulled a peeked byte from the stream: it counts.
        pulled = 1 if self.peeked and self.source == "reader" else 0
        return _SyntaxError(message, self.index + pulled)

    def peek_error(self, message: str) -> _SyntaxError:
        """At ``read.peek_position()``: the peeked byte counts (in both readers)."""
        if self.source == "reader":
            return self.error(message)
        return _SyntaxError(message, min(len(self.data), self.index + 1))

    # -- the Deserializer (de.rs) --------------------------------------------------

    def whitespace(self) -> int | None:
        match = _WHITESPACE.match(self.data, self.index)
        assert match is not None  # the pattern matches the empty string
        if match.end() != self.index:
            self.index = match.end()
            self.peeked = False
        return self.peek()

    def parse(self) -> None:
        """``from_*::<Value>``: one value, then only whitespace (``Deserializer::end``)."""
        self.value()
        while self.stack:
            self.next_in_container()
        if self.whitespace() is not None:
            raise self.peek_error(TRAILING_CHARACTERS)

    def value(self) -> None:
        """``deserialize_any``; an array or object is opened and left on the stack."""
        byte = self.whitespace()
        if byte is None:
            raise self.peek_error(EOF_VALUE)
        if byte in b"[{":
            if len(self.stack) + 1 >= MAX_DEPTH:  # `remaining_depth` reached 0
                raise self.peek_error(RECURSION_LIMIT)
            self.discard()
            self.stack.append(_Container(is_object=byte == ord("{")))
        else:
            self.scalar(byte)

    def scalar(self, byte: int) -> None:
        """A literal, number or string that starts with the peeked ``byte``."""
        if byte in _IDENTS:
            self.discard()
            self.ident(_IDENTS[byte])
        elif byte == ord("-"):
            self.discard()
            self.integer()
        elif byte in _DIGITS:
            self.integer()
        elif byte == ord('"'):
            self.discard()
            self.string()
        else:
            raise self.peek_error(EXPECTED_VALUE)

    def next_in_container(self) -> None:
        """``SeqAccess::next_element_seed`` / ``MapAccess::next_key_seed`` of the innermost
        container, then its value (or, at its end, ``end_seq``/``end_map``)."""
        container = self.stack[-1]
        close = ord("}") if container.is_object else ord("]")
        byte = self.whitespace()
        if byte == close:
            self.discard()
            self.stack.pop()
            return
        if byte == ord(",") and not container.first:
            self.discard()
            byte = self.whitespace()
        elif byte is not None:
            if not container.first:
                raise self.peek_error(
                    EXPECTED_OBJECT_COMMA_OR_END if container.is_object
                    else EXPECTED_LIST_COMMA_OR_END
                )
            container.first = False
        else:
            raise self.peek_error(EOF_OBJECT if container.is_object else EOF_LIST)
        if byte == close:
            raise self.peek_error(TRAILING_COMMA)
        if byte is None:
            raise self.peek_error(EOF_VALUE)
        if container.is_object:
            self.key_and_colon(byte)
        self.value()

    def key_and_colon(self, byte: int) -> None:
        """A member's key (its first byte peeked) and ``parse_object_colon``."""
        if byte != ord('"'):
            raise self.peek_error(KEY_MUST_BE_A_STRING)
        self.discard()
        self.string()
        colon = self.whitespace()
        if colon is None:
            raise self.peek_error(EOF_OBJECT)
        if colon != ord(":"):
            raise self.peek_error(EXPECTED_COLON)
        self.discard()

    def ident(self, rest: bytes) -> None:
        for expected in rest:
            byte = self.next()
            if byte is None:
                raise self.error(EOF_VALUE)
            if byte != expected:
                raise self.error(EXPECTED_IDENT)

    # -- numbers (no arbitrary_precision, no float_roundtrip) ----------------------

    def integer(self) -> None:
        """After the sign, if any: the sign never decides an error."""
        byte = self.next()
        if byte is None:
            raise self.error(EOF_VALUE)
        if byte == ord("0"):
            # There can be only one leading '0'.
            if self.peek_or_null() in _DIGITS:
                raise self.peek_error(INVALID_NUMBER)
            self.number(0)
        elif byte in _DIGITS:
            significand = byte - ord("0")
            while (byte := self.peek_or_null()) in _DIGITS:
                digit = byte - ord("0")
                if _overflows(significand, digit, _U64_MAX):
                    # Past u64 the number is a float; further digits only scale it.
                    self.long_integer(significand)
                    return
                self.discard()
                significand = significand * 10 + digit
            self.number(significand)
        else:
            raise self.error(INVALID_NUMBER)

    def number(self, significand: int) -> None:
        byte = self.peek_or_null()
        if byte == ord("."):
            self.decimal(significand, 0)
        elif byte in b"eE":
            self.exponent(significand, 0)

    def long_integer(self, significand: int) -> None:
        exponent = 0
        while (byte := self.peek_or_null()) in _DIGITS:
            self.discard()
            exponent += 1
        if byte == ord("."):
            self.decimal(significand, exponent)
        elif byte in b"eE":
            self.exponent(significand, exponent)
        else:
            self.f64_from_parts(significand, exponent)

    def decimal(self, significand: int, exponent: int) -> None:
        self.discard()  # the '.'
        while (byte := self.peek_or_null()) in _DIGITS:
            digit = byte - ord("0")
            if _overflows(significand, digit, _U64_MAX):
                # parse_decimal_overflow: the remaining digits are ignored.
                while self.peek_or_null() in _DIGITS:
                    self.discard()
                self.after_fraction(significand, exponent)
                return
            self.discard()
            significand = significand * 10 + digit
            exponent -= 1
        # "At least one digit after the point", as 1.0.87 tests it: by the exponent,
        # which a long integer made positive. So `123456789012345678901.` is
        # accepted and `18446744073709551616.0` refused, as the reference does.
        if exponent == 0:
            raise self.peek_error(INVALID_NUMBER if self.peek() is not None else EOF_VALUE)
        self.after_fraction(significand, exponent)

    def after_fraction(self, significand: int, exponent: int) -> None:
        if self.peek_or_null() in b"eE":
            self.exponent(significand, exponent)
        else:
            self.f64_from_parts(significand, exponent)

    def exponent(self, significand: int, starting: int) -> None:
        self.discard()  # the 'e'
        positive_exponent = True
        sign = self.peek_or_null()
        if sign in b"+-":
            self.discard()
            positive_exponent = sign == ord("+")
        byte = self.next()
        if byte is None:
            raise self.error(EOF_VALUE)
        if byte not in _DIGITS:
            raise self.error(INVALID_NUMBER)
        value = byte - ord("0")
        while (byte := self.peek_or_null()) in _DIGITS:
            self.discard()
            digit = byte - ord("0")
            if _overflows(value, digit, _I32_MAX):
                # parse_exponent_overflow: infinity is an error, zero is not.
                if significand != 0 and positive_exponent:
                    raise self.error(NUMBER_OUT_OF_RANGE)
                while self.peek_or_null() in _DIGITS:
                    self.discard()
                return
            value = value * 10 + digit
        final = starting + value if positive_exponent else starting - value
        self.f64_from_parts(significand, max(_I32_MIN, min(_I32_MAX, final)))

    def f64_from_parts(self, significand: int, exponent: int) -> None:
        """Only whether the magnitude overflows f64 matters here."""
        value = float(significand)
        while True:
            if abs(exponent) < len(_POW10):
                if exponent >= 0:
                    value *= _POW10[exponent]
                    if value == float("inf"):
                        raise self.error(NUMBER_OUT_OF_RANGE)
                return
            if value == 0.0:
                return
            if exponent >= 0:
                raise self.error(NUMBER_OUT_OF_RANGE)
            value /= 1e308
            exponent += 308

    # -- strings (read.rs, `parse_str` with validation) ----------------------------

    def string(self) -> None:
        """After the opening quote, up to and including the closing one."""
        valid_utf8 = True
        while True:
            match = _PLAIN.match(self.data, self.index)
            assert match is not None
            # serde checks UTF-8 once the string is read; escapes always encode valid
            # UTF-8, so checking the raw runs between them is the same test.
            valid_utf8 = valid_utf8 and _is_utf8(match.group())
            self.index = match.end()
            byte = self.next()
            if byte is None:
                raise self.error(EOF_STRING)
            if byte == ord('"'):
                if not valid_utf8:  # `as_str`, after the closing quote
                    raise self.error(INVALID_CODE_POINT)
                return
            if byte == ord("\\"):
                self.escape()
            else:
                raise self.error(CONTROL_CHARACTER)

    def escape(self) -> None:
        byte = self.next()
        if byte is None:
            raise self.error(EOF_STRING)
        if byte in _SIMPLE_ESCAPES:
            return
        if byte != ord("u"):
            raise self.error(INVALID_ESCAPE)
        code = self.hex_escape()
        if 0xDC00 <= code <= 0xDFFF:
            raise self.error(LONE_LEADING_SURROGATE)
        if 0xD800 <= code <= 0xDBFF:
            # A leading surrogate must be followed at once by `\u` and a trailing one.
            for expected in b"\\u":
                byte = self.peek()
                if byte is None:
                    raise self.error(EOF_STRING)
                self.discard()
                if byte != expected:
                    raise self.error(UNEXPECTED_END_OF_HEX_ESCAPE)
            if not 0xDC00 <= self.hex_escape() <= 0xDFFF:
                raise self.error(LONE_LEADING_SURROGATE)

    def hex_escape(self) -> int:
        """``decode_hex_escape``: four hex digits after ``\\u``."""
        if self.source == "slice" and self.index + 4 > len(self.data):
            # SliceRead looks ahead: fewer than four bytes left is EOF, whatever they are.
            self.index = len(self.data)
            raise self.error(EOF_STRING)
        code = 0
        for _ in range(4):
            byte = self.next()
            if byte is None:
                raise self.error(EOF_STRING)
            if byte not in _HEX:
                raise self.error(INVALID_ESCAPE)
            code = code * 16 + int(chr(byte), 16)
        return code


class _Skipping(_Parser):
    """serde_json's ``ignore_value`` (``IgnoredAny``: an unknown field of a struct),
    which reads only the syntax: no nesting limit, no number range or long-integer
    rules, strings unchecked for UTF-8 and surrogate pairs, and its own places for a
    control character and for a comma before a closing bracket."""

    def skip(self) -> None:
        frames: list[int] = []  # the open brackets, innermost last
        while True:
            byte = self.whitespace()
            if byte is None:
                raise self.peek_error(EOF_VALUE)
            frame: int | None = None
            if byte in b"[{":
                self.discard()
                frame = byte
            else:
                self.scalar(byte)
            accept_comma = frame is None
            if frame is None:
                if not frames:
                    return
                frame = frames.pop()
            while True:  # to the next member, closing what ends here
                byte = self.whitespace()
                if byte == ord(",") and accept_comma:
                    self.discard()
                    break
                if byte == (ord("]") if frame == ord("[") else ord("}")):
                    self.discard()
                    if not frames:
                        return
                    frame = frames.pop()
                    accept_comma = True
                    continue
                if byte is None:
                    raise self.peek_error(EOF_LIST if frame == ord("[") else EOF_OBJECT)
                if accept_comma:
                    raise self.peek_error(EXPECTED_LIST_COMMA_OR_END if frame == ord("[")
                                          else EXPECTED_OBJECT_COMMA_OR_END)
                break
            if frame == ord("{"):
                byte = self.whitespace()
                if byte is None:
                    raise self.peek_error(EOF_OBJECT)
                self.key_and_colon(byte)
            frames.append(frame)

    def integer(self) -> None:
        """``ignore_integer``: the plain grammar, no range (after the sign, if any)."""
        byte = self.next()
        if byte == ord("0"):
            # There can be only one leading '0'.
            if self.peek_or_null() in _DIGITS:
                raise self.peek_error(INVALID_NUMBER)
        elif byte is not None and byte in _DIGITS:
            while self.peek_or_null() in _DIGITS:
                self.discard()
        else:
            raise self.error(INVALID_NUMBER)
        byte = self.peek_or_null()
        if byte == ord("."):
            self.discard()
            if self.peek_or_null() not in _DIGITS:
                raise self.peek_error(INVALID_NUMBER)
            while self.peek_or_null() in _DIGITS:
                self.discard()
            byte = self.peek_or_null()
        if byte in b"eE":
            self.discard()
            if self.peek_or_null() in b"+-":
                self.discard()
            byte = self.next()
            if byte is None or byte not in _DIGITS:
                raise self.error(INVALID_NUMBER)
            while self.peek_or_null() in _DIGITS:
                self.discard()

    def string(self) -> None:
        """``ignore_str``: after the opening quote, up to and including the closing one."""
        while True:
            match = _PLAIN.match(self.data, self.index)
            assert match is not None
            self.index = match.end()
            byte = self.peek()
            if byte is None:
                raise self.error(EOF_STRING)
            if byte not in b'"\\' and self.source == "slice":
                # SliceRead stops at the control character without taking it.
                raise _SyntaxError(CONTROL_CHARACTER, self.index)
            self.discard()
            if byte == ord('"'):
                return
            if byte != ord("\\"):
                raise self.error(CONTROL_CHARACTER)
            byte = self.next()
            if byte is None:
                raise self.error(EOF_STRING)
            if byte == ord("u"):
                self.hex_escape()  # any code unit: pairs are not checked
            elif byte not in _SIMPLE_ESCAPES:
                raise self.error(INVALID_ESCAPE)


class SkippedValueError(ValueError):
    """serde's error skipping a value, worded ``<message> at line L column C``."""


def skipped_value_end(data: bytes, start: int, *, source: Source = "slice") -> int:
    """The byte index after the value at ``start``, read as serde skips an unknown
    field; :class:`SkippedValueError` where that reading fails."""
    parser = _Skipping(data, source, index=start)
    try:
        parser.skip()
    except _SyntaxError as err:
        line, column = _position(data, err.offset)
        raise SkippedValueError(f"{err.message} at line {line} column {column}") from None
    return parser.index


def _is_utf8(chunk: bytes) -> bool:
    # Python's strict decoder refuses what Rust's `str::from_utf8` does (overlong
    # forms, encoded surrogates, code points past U+10FFFF).
    if chunk.isascii():
        return True
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """serde_json's line (from 1) and column (bytes since the last newline) at ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, line_start) + 1, offset - line_start


def syntax_error(data: bytes, *, source: Source = "reader") -> str | None:
    """serde_json's error for parsing ``data`` into a ``Value``, or ``None`` if it parses.

    ``source`` names the serde_json entry point: ``"reader"`` for ``from_reader``
    (how the reference reads payload files and the manifest), ``"slice"`` for
    ``from_slice``/``from_str`` (event lines, function arguments). The result is
    serde_json's ``Display``: ``<message> at line L column C``.
    """
    parser = _Parser(data, source)
    try:
        parser.parse()
    except _SyntaxError as err:
        line, column = _position(data, err.offset)
        return f"{err.message} at line {line} column {column}"
    return None


def is_cut_short(raw: bytes) -> bool:
    """Whether ``raw`` (a final line without newline) is a record cut short by a write in
    progress: the start of a JSON text that ends mid-value (serde meets the end of the
    input), maybe with its last character cut in two. Anything else there (trailing
    characters, a bad byte or token before the end) is a bad line, not a write."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.end != len(raw) or err.reason != "unexpected end of data":
            return False
        raw = raw[:err.start]
    words = syntax_error(raw, source="slice")
    return words is not None and words.startswith(_EOF_WHILE_PARSING)
