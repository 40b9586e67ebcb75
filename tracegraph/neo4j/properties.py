"""Graph attributes as Neo4j property values.

Neo4j stores only scalars (boolean, integer, float, string) and lists whose
elements are all of one of those types. :func:`encode_properties` maps an
attribute dict onto that, deterministically:

- ``None`` values are left out (Neo4j has no null property: setting one removes it).
- ``bool``, ``int``, ``float`` and ``str`` are kept (``StrEnum`` members and other
  subclasses become their base type).
- A list or tuple whose elements are all strings, all booleans, all integers or
  all floats is kept as a list (the empty list too).
- Everything else is stored as a JSON string (``json.dumps`` with sorted keys,
  ``(",", ":")`` separators, non-ASCII kept): dicts, nested lists, lists mixing
  types or holding ``None``, integers outside Neo4j's 64-bit range, and strings
  holding lone surrogates (which UTF-8 cannot carry; they are ``\\u`` escaped).

Every attribute the graph schema declares today is a scalar or a list of
strings, so none is JSON-encoded in practice; the rule is there for graphs that
carry extra attributes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "INT64_RANGE",
    "encode_properties",
    "encode_value",
    "json_text",
]

#: The integers a Neo4j property can hold.
INT64_RANGE = (-(2**63), 2**63 - 1)
_INT64 = INT64_RANGE
_ELEMENT_TYPES: tuple[type, ...] = (str, bool, int, float)


def json_text(value: Any, *, ascii_only: bool = False) -> str:
    """Deterministic JSON text of ``value``."""
    return json.dumps(value, sort_keys=True, ensure_ascii=ascii_only, separators=(",", ":"))


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _scalar(value: Any) -> Any:
    """The Neo4j value of a scalar, or ``_NOT_SCALAR``."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        value = int(value)
        return value if _INT64[0] <= value <= _INT64[1] else _NOT_SCALAR
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        value = str(value)
        return value if _utf8_ok(value) else _NOT_SCALAR
    return _NOT_SCALAR


_NOT_SCALAR = object()


def _element_type(value: Any) -> type | None:
    for kind in _ELEMENT_TYPES:  # bool before int: True is an int too
        if isinstance(value, kind):
            return kind
    return None


def encode_value(value: Any) -> Any:
    """The Neo4j property value for an attribute value (``None`` stays ``None``)."""
    if value is None:
        return None
    scalar = _scalar(value)
    if scalar is not _NOT_SCALAR:
        return scalar
    if isinstance(value, list | tuple):
        kinds = {_element_type(element) for element in value}
        if len(kinds) <= 1 and None not in kinds:
            elements = [_scalar(element) for element in value]
            if all(element is not _NOT_SCALAR for element in elements):
                return elements
    if isinstance(value, str):
        return json_text(value, ascii_only=True)
    try:
        text = json_text(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"cannot store a {type(value).__name__} value in Neo4j: {err}") from err
    return text if _utf8_ok(text) else json_text(value, ascii_only=True)


def encode_properties(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Neo4j properties for an attribute dict (see the module docstring)."""
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if value is None:
            continue
        kind = type(value)
        # Fast path for what graphs hold (a large load encodes millions of values).
        if (kind is str and value.isascii()) or kind is bool or kind is float or (
                kind is int and _INT64[0] <= value <= _INT64[1]):
            out[name if type(name) is str else str(name)] = value
            continue
        if kind is list and value and all(type(e) is str and e.isascii() for e in value):
            out[name if type(name) is str else str(name)] = list(value)
            continue
        try:
            out[str(name)] = encode_value(value)
        except TypeError as err:
            raise TypeError(f"attribute {name!r}: {err}") from err
    return out
