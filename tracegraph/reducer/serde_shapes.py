"""Typed reads of payload JSON with serde's derive rules.

The reference parses several payloads into Rust structs (``from_value``). This
module reproduces what those parses accept and reject, so tracegraph fails on
exactly the payloads the reference fails on:

- an object: unknown keys ignored; a missing or ``null`` ``Option`` is ``None``;
  a missing ``#[serde(default)]`` field takes its default; anything else missing
  is an error;
- an array: serde's struct-from-sequence form, one element per field in order;
- integers must fit their Rust type, and are never floats, strings or bools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tracegraph.errors import quote_name, safe_name

__all__ = [
    "FieldSpec",
    "Reader",
    "ShapeError",
    "boolean",
    "describe",
    "field",
    "i32",
    "json_value",
    "read_struct",
    "seq_of",
    "string",
    "u64",
    "unit_enum",
]


_MISSING = object()


class ShapeError(ValueError):
    """The JSON does not deserialize into the named Rust type."""


def describe(value: Any) -> str:
    if value is None:
        return "null"
    # serde also prints the value; tracegraph names only its type (it may be content).
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "floating point"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "sequence"
    return "map"


Reader = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    read: Reader
    #: ``Option<T>``: missing or null gives None.
    optional: bool = False
    #: ``#[serde(default)]``: value used when the key is missing.
    default: Any = _MISSING


def field(name: str, read: Reader, *, optional: bool = False, default: Any = _MISSING) -> FieldSpec:
    return FieldSpec(name, read, optional, default)


def read_struct(value: Any, type_name: str, fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """Deserialize ``value`` into a dict of the struct's fields."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for spec in fields:
            raw = value.get(spec.name, _MISSING)
            if raw is _MISSING:
                if spec.optional:
                    out[spec.name] = None
                elif spec.default is not _MISSING:
                    out[spec.name] = spec.default
                else:
                    raise ShapeError(f"missing field `{spec.name}`")
            elif raw is None and spec.optional:  # `_read_field` inlined: the hot path
                out[spec.name] = None
            else:
                out[spec.name] = spec.read(raw)
        return out
    if isinstance(value, list):
        if len(value) != len(fields):
            raise ShapeError(
                f"invalid length {len(value)}, expected struct {type_name} "
                f"with {len(fields)} elements"
            )
        for spec, raw in zip(fields, value, strict=True):
            out[spec.name] = _read_field(spec, raw)
        return out
    raise ShapeError(f"invalid type: {describe(value)}, expected struct {type_name}")


def _read_field(spec: FieldSpec, raw: Any) -> Any:
    if spec.optional and raw is None:
        return None
    return spec.read(raw)


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise ShapeError(f"invalid type: {describe(value)}, expected a string")
    return value


def json_value(value: Any) -> Any:
    return value


def _integer(value: Any, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"invalid type: {describe(value)}, expected {name}")
    if not low <= value <= high:
        raise ShapeError(f"invalid value: integer, expected {name}")
    return value


def u64(value: Any) -> int:
    return _integer(value, 0, 2**64 - 1, "u64")


def i32(value: Any) -> int:
    return _integer(value, -(2**31), 2**31 - 1, "i32")


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ShapeError(f"invalid type: {describe(value)}, expected a boolean")
    return value


def seq_of(read: Reader) -> Reader:
    def read_seq(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ShapeError(f"invalid type: {describe(value)}, expected a sequence")
        return [read(element) for element in value]

    return read_seq


def unit_enum(type_name: str, variants: Sequence[str], data_variants: Sequence[str] = ()) -> Reader:
    """A serde externally tagged enum whose only accepted data is unit or map-with-null."""

    def read_enum(value: Any) -> str:
        if isinstance(value, str):
            if value in variants:
                return value
            raise ShapeError(f"unknown variant `{safe_name(value)}`, expected one of {_listing(variants, data_variants)}")
        if isinstance(value, dict):
            if len(value) != 1:
                raise ShapeError("invalid value: map, expected map with a single key")
            (key, content), = value.items()
            if key in variants and content is None:
                return key
            raise ShapeError(f"invalid {type_name} variant {quote_name(key)}")
        raise ShapeError(f"invalid type: {describe(value)}, expected enum {type_name}")

    return read_enum


def _listing(variants: Sequence[str], data_variants: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in (*variants, *data_variants))
