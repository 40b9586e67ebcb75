"""JSON the way ``serde_json`` reads and writes it.

The reference reducer parses payload files into ``serde_json::Value`` and some
reduced fields are ``serde_json::to_string`` of such values, so tracegraph must
agree with it on the edges of JSON:

- ``NaN``/``Infinity`` literals and lone UTF-16 surrogates are rejected;
- integers outside u64/i64 become floats, ``-0`` is the float ``-0.0``, and
  floats are computed the way serde_json computes them (see ``serde_number``);
- objects serialize with keys in byte order (no ``preserve_order`` feature);
- floats print the way ``ryu`` does (``1e16``, ``1.5``, ``1e-7``).

Parsing has a fast path: orjson reads the common document (no float, no
``-0``, nested less than ``MAX_NESTING`` deep), on which it agrees with
serde_json exactly; orjson itself refuses ``NaN``, lone surrogates and bad
UTF-8. Anything else takes the exact path below. Where it refuses a document
for its syntax, the error is worded and placed as serde_json does it
(``serde_syntax``): ``expected value at line 1 column 20``.

Which serde_json entry point is mimicked matters to those positions: payloads
are files the reference reads with ``from_reader``, event lines and function
arguments strings it reads with ``from_str``. ``source`` says which; :func:`loads`
takes bytes as a file's (the payload reader passes them) and text as a string's.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

import orjson

from tracegraph.bundle.serde_number import InvalidNumber, NumberOutOfRange, parse_number
from tracegraph.bundle.serde_syntax import (
    SkippedValueError,
    Source,
    skipped_value_end,
    syntax_error,
)
from tracegraph.errors import safe_name

__all__ = [
    "MAX_NESTING",
    "DuplicateKey",
    "JsonError",
    "Reread",
    "SkippedFieldError",
    "ValueOnlyNumber",
    "blank_ignored_fields",
    "canonical_document",
    "check_nesting",
    "check_typed_document",
    "dumps_compact",
    "dumps_pretty",
    "exact_loads",
    "exact_typed_document",
    "format_float",
    "has_lone_surrogate",
    "has_lone_surrogate_escape",
    "loads",
    "loads_struct_text",
    "readable_numbers",
    "reread_typed",
]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")


class JsonError(ValueError):
    """Input that serde_json would refuse to parse."""


class _SyntaxRejection(JsonError):
    """Refused for its syntax: :func:`_parse` rewords it as serde_json words it."""


def _reject_constant(name: str) -> Any:
    raise _SyntaxRejection(f"invalid JSON literal {name}")


def _parse_number(text: str) -> int | float:
    try:
        return parse_number(text)
    except (NumberOutOfRange, InvalidNumber) as err:
        raise _SyntaxRejection(str(err)) from err


def has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in current):
                return True
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


#: serde_json refuses nesting at this depth (its recursion limit of 128).
MAX_NESTING = 128
# A JSON string, escapes included (the unrolled form is much faster than an alternation).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(set(range(256)) - set(b"[]{}"))


def check_nesting(text: str) -> None:
    """Reject JSON nested ``MAX_NESTING`` deep, as serde_json's recursion limit does."""
    if text.count("[") + text.count("{") < MAX_NESTING:
        return
    depth = 0
    for char in _STRING.sub(b"", text.encode("utf-8", "surrogatepass")).translate(
        None, _NOT_BRACKET
    ):
        if char in b"[{":
            depth += 1
            if depth >= MAX_NESTING:
                raise _SyntaxRejection("recursion limit exceeded")
        else:
            depth -= 1


def has_lone_surrogate_escape(text: str) -> bool:
    return _SURROGATE_ESCAPE.search(text) is not None


def _serde_message(text: str, source: Source, fallback: str) -> str | None:
    """serde_json's error for ``text``, which the exact path refused for its syntax;
    ``None`` where serde_json reads it (see :data:`_LONG_BARE_POINT`).

    ``fallback`` (Python's wording) where the error path itself fails: it must never
    raise anything but the refusal.
    """
    try:
        return syntax_error(text.encode("utf-8", "surrogatepass"), source=source)
    except Exception:
        return fallback


_U64_MAX = 2**64 - 1

#: A string, or an integer past u64 with a point and no digit after it, which serde_json
#: 1.0.87 reads (``123456789012345678901.``: it tests for a fraction digit by an
#: exponent the integer's extra digits moved) and Python refuses. Without the point it
#: is the same number to serde, so the exact path reads it so.
_LONG_BARE_POINT = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![0-9.eE+-])(-?[1-9][0-9]{19,})\.(?![0-9])',
                              re.DOTALL)


class ValueOnlyNumber(JsonError):
    """A typed document with such an integer (see :data:`_LONG_BARE_POINT`): serde reads
    it as a number where it reads a value (a typed field, a buffered payload), but its
    skipping refuses it, so the caller, which knows the fields, decides."""


def readable_numbers(text: str) -> str:
    """``text`` with the point of each such integer dropped: the same numbers to serde."""
    return _LONG_BARE_POINT.sub(_drop_bare_point, text)


def _drop_bare_point(found: re.Match[str]) -> str:
    digits = found.group(1)
    if digits is None or int(digits.lstrip("-")) <= _U64_MAX:
        return found.group(0)
    return digits


def _parse(text: str, object_pairs_hook: Any = None, source: Source = "slice", *,
           value: bool = False) -> Any:
    """``json.loads`` with serde_json's limits, literals, numbers and string rules.

    ``value``: read as a ``serde_json::Value`` (a payload), whose number reader takes
    what a typed document's skipped fields refuse (see :data:`_LONG_BARE_POINT`)."""
    try:
        check_nesting(text)
        try:
            value = json.loads(
                text,
                object_pairs_hook=object_pairs_hook,
                parse_constant=_reject_constant,
                parse_int=_parse_number,
                parse_float=_parse_number,
            )
        except json.JSONDecodeError as err:
            raise _SyntaxRejection(f"{err.msg} at line {err.lineno} column {err.colno}") from err
        except RecursionError as err:
            raise _SyntaxRejection("recursion limit exceeded") from err
        # Paired surrogate escapes decode to one code point; only lone ones remain.
        if has_lone_surrogate_escape(text) and has_lone_surrogate(value):
            raise _SyntaxRejection("lone leading surrogate in hex escape")
    except _SyntaxRejection as err:
        # Python stops at its own first complaint, in its own words; serde_json's first
        # error in the document is the one the reference reports.
        message = _serde_message(text, source, str(err))
        if message is None:
            readable = readable_numbers(text)
            if readable != text:
                if value:
                    return _parse(readable, object_pairs_hook, source, value=True)
                raise ValueOnlyNumber(str(err)) from err
            message = str(err)
        raise JsonError(message) from err
    return value


# ``-0`` that may be a number token (serde_json reads the float -0.0, orjson the
# int 0): not preceded by a character that cannot precede a value. The literal
# comes first so the scan is fast; a match inside a string only costs the exact path.
_NEGATIVE_ZERO = re.compile(rb"-0(?<![^\[:, \t\n\r]-0)")

#: Returned by :func:`_fast_loads` when a document needs the exact path.
_SLOW: Any = object()


def _as_bytes(text: str | bytes) -> bytes | None:
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the exact path decides
        return None


#: What :func:`_reading` finds in orjson's value.
_INEXACT, _EXACT, _EXACT_WITH_ZERO = 0, 1, 2


def _reading(value: Any, floats_matter: bool = True) -> int:
    """``_INEXACT`` if ``value`` holds a float (when they matter) or nests
    ``MAX_NESTING`` deep; else ``_EXACT``, or ``_EXACT_WITH_ZERO`` if it holds the
    integer 0 (which a ``-0`` token also reads as, so only then is ``-0`` looked for).

    Floats are where the parsers differ: serde_json does not round them
    correctly, and reads integers past 64 bits as floats too (orjson also gives
    floats there). Integers within 64 bits and strings read the same.
    """
    kind = type(value)
    if kind is not dict and kind is not list:
        if kind is float and floats_matter:
            return _INEXACT
        return _EXACT_WITH_ZERO if kind is int and not value else _EXACT
    # Level by level; each value is looked at once (this runs on every payload).
    float_type = float if floats_matter else None
    zero = False
    level = [value]
    depth = 1
    while True:
        deeper: list[Any] = []
        add = deeper.append
        for container in level:
            for child in (container.values() if type(container) is dict else container):
                kind = type(child)
                if kind is str:  # the most common value: settled by one test
                    continue
                if kind is dict or kind is list:
                    add(child)
                elif kind is float_type:
                    return _INEXACT
                elif kind is int and not child:
                    zero = True
        if not deeper:
            return _EXACT_WITH_ZERO if zero else _EXACT
        depth += 1
        if depth >= MAX_NESTING:
            return _INEXACT
        level = deeper


def _orjson_reads_exactly(value: Any, *, floats_matter: bool = True) -> bool:
    """No float in ``value`` (when they matter) and nesting below ``MAX_NESTING``."""
    return _reading(value, floats_matter) != _INEXACT


def _orjson_value(data: bytes | None) -> Any:
    """orjson's value of ``data``, or ``_SLOW`` where it fails or may read ``-0`` wrongly."""
    if data is None or _NEGATIVE_ZERO.search(data):
        return _SLOW
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _SLOW


def _fast_loads(data: bytes | None) -> Any:
    """The value of ``data`` when orjson reads it exactly as serde_json would, else ``_SLOW``."""
    if data is None:
        return _SLOW
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _SLOW
    reading = _reading(value)
    # A `-0` number token reads as the integer 0: without one there is none to find.
    if reading == _INEXACT or (reading == _EXACT_WITH_ZERO and _NEGATIVE_ZERO.search(data)):
        return _SLOW
    return value


def _text(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode("utf-8")


def _source(text: str | bytes, source: Source | None) -> Source:
    """Bytes are taken as a file's (``from_reader``), text as a string's (``from_str``)."""
    if source is not None:
        return source
    return "reader" if isinstance(text, bytes) else "slice"


def loads(text: str | bytes, *, source: Source | None = None) -> Any:
    """Parse JSON into plain Python values with serde_json's rules (a ``Value``).

    Bytes must be UTF-8 (``UnicodeDecodeError`` otherwise). ``source`` places
    syntax errors as that serde_json entry point does (default: ``"reader"``
    for bytes, ``"slice"`` for text).
    """
    value = _fast_loads(_as_bytes(text))
    return exact_loads(_text(text), source=_source(text, source)) if value is _SLOW else value


def _dumps_to(value: Any, data: bytes | None) -> bool:
    """Whether orjson's compact form of ``value`` is exactly ``data``.

    orjson writes less deeply nested values than it reads: deeper ones are left
    to the exact path (which rejects them past ``MAX_NESTING``).
    """
    try:
        return orjson.dumps(value) == data
    except orjson.JSONEncodeError:
        return False


def _canonical(text: str | bytes) -> Any:
    """The value, when ``text`` is exactly orjson's compact form of it (so no key repeats)."""
    data = _as_bytes(text)
    value = _fast_loads(data)
    if value is _SLOW or not _dumps_to(value, data):
        return _SLOW
    return value


def canonical_document(text: str | bytes) -> Any:
    """The structure of a typed document in canonical compact form, else ``None``.

    Canonical: exactly orjson's compact serialization of its value, with no
    ``-0`` and nested less than ``MAX_NESTING`` deep. Such a document has no
    repeated key, so :func:`check_typed_document` accepts it. Unlike that
    function, floats in the result are orjson's (correctly rounded): callers
    read only its structure and strings (event lines, whose typed fields are
    then validated from the text itself).
    """
    data = _as_bytes(text)
    value = _orjson_value(data)
    if value is _SLOW or not _dumps_to(value, data):
        return None
    assert data is not None
    if data.count(b"[") + data.count(b"{") >= MAX_NESTING and not _orjson_reads_exactly(
        value, floats_matter=False
    ):
        return None
    return value


def loads_struct_text(text: str | bytes, *, source: Source = "slice") -> Any:
    """``serde_json::from_str`` into a derived struct: top-level duplicate keys fail.

    Nested values are read as ``Value`` or ignored, where the last key wins.
    """
    value = _canonical(text)
    if value is not _SLOW:
        return value
    top_level_duplicate: list[bool] = []

    def record(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        top_level_duplicate.append(len({key for key, _ in pairs}) != len(pairs))
        return dict(pairs)

    value = _parse(_text(text), record, source)
    # The hook runs innermost-first, so the top-level object is recorded last.
    if isinstance(value, dict) and top_level_duplicate[-1]:
        raise JsonError("duplicate field")
    return value


def check_typed_document(text: str | bytes, *, source: Source = "slice") -> Any:
    """Reject what serde refuses before any typed field is read, and return the value.

    Used for documents that deserialize into Rust structs all the way down
    (event lines, the manifest): there a repeated key is a "duplicate field"
    error at any depth, as are NaN literals and lone surrogates. ``source``:
    ``"slice"`` for ``from_str`` (event lines), ``"reader"`` for a file (the manifest).
    """
    value = _canonical(text)
    return exact_typed_document(_text(text), source=source) if value is _SLOW else value


class DuplicateKey(JsonError):
    """A key repeated in an object: serde's "duplicate field" where the object is a
    struct, but not where serde reads it as a free-form value or skips it (the caller,
    which knows the types, decides)."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(f"duplicate field `{safe_name(key)}`")
        result[key] = value
    return result


_IGNORED_VALUE = json.JSONDecoder(parse_constant=_reject_constant, parse_int=str,
                                  parse_float=str)
_JSON_WHITESPACE = " \t\n\r"


def _skip_whitespace(text: str, index: int) -> int:
    while index < len(text) and text[index] in _JSON_WHITESPACE:
        index += 1
    return index


class SkippedFieldError(JsonError):
    """serde's error reading past an unknown top-level field (its syntax is wrong)."""


def blank_ignored_fields(text: str, fields: frozenset[str], *,
                         source: Source = "slice") -> str | None:
    """``text`` with the value of every top-level key not in ``fields`` written as
    ``0`` and spaces (its byte length kept, so later positions stay), or ``None``
    when there is none. Scanning stops at the first syntax error: the values before
    it are blanked, and parsing the result meets that error where serde does; an
    error inside such a value is serde's own (:class:`SkippedFieldError`).

    serde skips such a field with ``IgnoredAny``, which checks only the syntax: no
    number range, no surrogate pairing, no nesting limit, and places some errors
    its own way (``serde_syntax.skipped_value_end``). ``source`` as for :func:`loads`.
    """
    index = _skip_whitespace(text, 0)
    if not text.startswith("{", index):
        return None
    index = _skip_whitespace(text, index + 1)
    data = text.encode("utf-8", "surrogatepass")
    ignored: list[tuple[int, int]] = []
    try:
        while True:
            if not text.startswith('"', index):
                break
            key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
            index = _skip_whitespace(text, index)
            if not text.startswith(":", index):
                break
            start = _skip_whitespace(text, index + 1)
            if key in fields:
                _, index = _IGNORED_VALUE.raw_decode(text, start)
            else:
                index = _skipped_end(text, data, start, source)
                ignored.append((start, index))
            index = _skip_whitespace(text, index)
            if not text.startswith(",", index):  # the closing brace, or an error
                break
            index = _skip_whitespace(text, index + 1)
    except SkippedFieldError:
        raise
    except (ValueError, RecursionError):
        pass
    if not ignored:
        return None
    parts: list[str] = []
    last = 0
    for start, end in ignored:
        size = len(text[start:end].encode("utf-8", "surrogatepass"))
        parts += [text[last:start], "0", " " * (size - 1)]
        last = end
    parts.append(text[last:])
    return "".join(parts)


class Reread(NamedTuple):
    """A typed document to read again after :func:`check_typed_document` refused it."""

    text: str
    #: Numbers rewritten (:func:`readable_numbers`): word errors from the text as written.
    numbers_rewritten: bool


def reread_typed(text: str, refusal: JsonError, fields: frozenset[str], *,
                 source: Source, unknown_blanked: bool) -> Reread | JsonError:
    """What serde would read instead of what :func:`check_typed_document` refused: the
    text with its unknown top-level fields blanked (unless ``unknown_blanked``
    already), or its long integers' bare points dropped; else the error to report,
    which is an unknown field's own where serde's skipping refuses one."""
    if not unknown_blanked:
        try:
            blanked = blank_ignored_fields(text, fields, source=source)
        except SkippedFieldError as skipping:
            return skipping
        if blanked is not None:
            return Reread(blanked, numbers_rewritten=False)
    if isinstance(refusal, ValueOnlyNumber):
        # No skipped field holds it: serde reads it as a number there.
        return Reread(readable_numbers(text), numbers_rewritten=True)
    return refusal


def _skipped_end(text: str, data: bytes, start: int, source: Source) -> int:
    """The index in ``text`` after the skipped value at ``start``."""
    offset = len(text[:start].encode("utf-8", "surrogatepass"))
    try:
        end = skipped_value_end(data, offset, source=source)
    except SkippedValueError as err:
        raise SkippedFieldError(str(err)) from None
    return start + len(data[offset:end].decode("utf-8", "surrogatepass"))


def exact_loads(text: str, *, source: Source = "slice") -> Any:
    """The exact path of :func:`loads` (what the fast path must agree with)."""
    return _parse(text, source=source, value=True)


def exact_typed_document(text: str, *, source: Source = "slice") -> Any:
    """The exact path of :func:`check_typed_document`."""
    return _parse(text, _reject_duplicates, source)


def format_float(value: float) -> str:
    """Format a finite float like ``ryu::Buffer::format_finite`` (serde_json)."""
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-trip digits, as ryu does; re-lay them out.
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    all_digits = (int_part + frac_part).lstrip("0")
    leading_zeros = len(int_part + frac_part) - len(all_digits)
    digits = all_digits.rstrip("0")
    # Decimal point position relative to the first significant digit.
    point = len(int_part) - leading_zeros + (int(exp_text) if exp_text else 0)
    length = len(digits)
    if point - length >= 0 and point <= 16:
        body = digits + "0" * (point - length) + ".0"
    elif 0 < point <= 16:
        body = digits[:point] + "." + digits[point:]
    elif -5 < point <= 0:
        body = "0." + "0" * (-point) + digits
    elif length == 1:
        body = f"{digits}e{point - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return sign + body


def _contains_float(value: Any) -> bool:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, float):
            return True
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, float):
        out.append(format_float(value))
    elif isinstance(value, list):
        out.append("[")
        for index, element in enumerate(value):
            if index:
                out.append(",")
            _encode(element, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    else:  # pragma: no cover - values come from loads()
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def dumps_compact(value: Any) -> str:
    """``serde_json::to_string`` of a ``Value``: compact, keys sorted."""
    if _orjson_reads_exactly(value):
        # No float: orjson writes what serde_json does (keys sorted by code point).
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:  # lone surrogates, integers past 64 bits
            pass
    if not _contains_float(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def _encode_pretty(value: Any, out: list[str], indent: str) -> None:
    if isinstance(value, float) and not isinstance(value, bool):
        out.append(format_float(value))
    elif isinstance(value, dict) and value:
        inner = indent + "  "
        out.append("{\n")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",\n")
            out.append(f"{inner}{json.dumps(key, ensure_ascii=False)}: ")
            _encode_pretty(item, out, inner)
        out.append(f"\n{indent}}}")
    elif isinstance(value, list | tuple) and value:
        inner = indent + "  "
        out.append("[\n")
        for index, item in enumerate(value):
            if index:
                out.append(",\n")
            out.append(inner)
            _encode_pretty(item, out, inner)
        out.append(f"\n{indent}]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def dumps_pretty(value: Any) -> str:
    """``serde_json::to_writer_pretty``: two-space indent, keys in the given order.

    (A struct serializes its fields in declaration order; pass dicts in that order.)
    """
    if not _contains_float(value):
        return json.dumps(value, indent=2, ensure_ascii=False)
    out: list[str] = []
    _encode_pretty(value, out, "")
    return "".join(out)
