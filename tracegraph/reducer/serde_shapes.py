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

from tracegraph.bundle import serde_json
from tracegraph.bundle.serde_typed import describe, field_position, unknown_variant
from tracegraph.errors import quote_name

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
    "read_struct_text",
    "seq_of",
    "string",
    "u64",
    "unit_enum",
]


_MISSING = object()


class ShapeError(ValueError):
    """The JSON does not deserialize into the named Rust type."""

    #: Where the refused value is: struct fields and ``*`` for a sequence element,
    #: outermost first.
    path: tuple[str, ...] = ()


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


def read_struct(value: Any, type_name: str, fields: Sequence[FieldSpec], *,
                in_document_order: bool = False) -> dict[str, Any]:
    """Deserialize ``value`` into a dict of the struct's fields. ``in_document_order``:
    the map was read from text (``from_str``), not taken from a ``Value``."""
    if isinstance(value, dict):
        try:
            return _read_fields(value, fields)
        except ShapeError:
            # serde meets the map's keys in the map's order (a Value's map is sorted by
            # key; text is read as written) and reports a missing field only at the end.
            _raise_first_error(value, fields,
                               list(value) if in_document_order else sorted(value))
            raise
    out: dict[str, Any] = {}
    if isinstance(value, list):
        # serde's visit_seq: each element in turn, then a shortage, then extra elements.
        for index, spec in enumerate(fields):
            if index == len(value):
                raise ShapeError(f"invalid length {index}, expected struct {type_name} "
                                 f"with {len(fields)} elements")
            try:
                out[spec.name] = _read_field(spec, value[index])
            except ShapeError as err:
                err.path = (spec.name, *err.path)
                raise
        if len(value) > len(fields):
            raise ShapeError(f"invalid length {len(value)}, expected fewer elements in array")
        return out
    raise ShapeError(f"invalid type: {describe(value)}, expected struct {type_name}")


def _read_fields(value: dict[str, Any], fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """The fields of a map, in declaration order (the hot path; any error will do)."""
    out: dict[str, Any] = {}
    for spec in fields:
        raw = value.get(spec.name, _MISSING)
        if raw is _MISSING:
            if spec.optional:
                out[spec.name] = None
            elif spec.default is not _MISSING:
                out[spec.name] = spec.default
            else:
                raise ShapeError(f"missing field `{spec.name}`")
        elif raw is None and spec.optional:  # `_read_field` inlined
            out[spec.name] = None
        else:
            try:
                out[spec.name] = spec.read(raw)
            except ShapeError as err:
                err.path = (spec.name, *err.path)
                raise
    return out


def _raise_first_error(value: dict[str, Any], fields: Sequence[FieldSpec],
                       keys: list[str]) -> None:
    """Raise the error serde reports for a map that fails: the first field, in ``keys``
    order, that does not read, else the first required field (in declaration order)
    that is missing."""
    specs = {spec.name: spec for spec in fields}
    for name in keys:
        spec = specs.get(name)
        if spec is not None:
            try:
                _read_field(spec, value[name])
            except ShapeError as err:
                err.path = (spec.name, *err.path)
                raise
    for spec in fields:
        if spec.name not in value and not spec.optional and spec.default is _MISSING:
            raise ShapeError(f"missing field `{spec.name}`")


def read_struct_text(text: str, type_name: str, fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """``serde_json::from_str`` into a struct: :func:`read_struct` of the parsed text, its
    errors placed as serde places them (``missing field `x` at line 1 column 62``)."""
    value = serde_json.loads_struct_text(text)
    try:
        return read_struct(value, type_name, fields, in_document_order=True)
    except ShapeError as err:
        message = str(err)
        if message.startswith("missing field") and not err.path:
            where = field_position(text, None, container_kind=False)
        elif len(err.path) == 1:
            where = field_position(text, err.path[0], container_kind=message.startswith(
                ("invalid type: sequence", "invalid type: map")))
        else:
            where = None  # deeper inside a value: serde's position is not modelled
        if where is None:
            raise
        raise ShapeError(f"{message} at {where}") from err


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
        try:
            return [read(element) for element in value]
        except ShapeError as err:
            err.path = ("*", *err.path)
            raise

    return read_seq


def unit_enum(type_name: str, variants: Sequence[str],
              newtype_variants: Sequence[str] = ()) -> Reader:
    """A serde externally tagged enum read from a ``Value``: ``"name"`` or ``{"name": null}``
    for a unit variant. ``variants`` lists them all in declaration order;
    ``newtype_variants`` are those that carry data (their caller reads the map form)."""
    units = [name for name in variants if name not in newtype_variants]

    def read_enum(value: Any) -> str:
        if isinstance(value, str):
            if value in units:
                return value
            if value in newtype_variants:
                raise ShapeError("invalid type: unit variant, expected newtype variant")
            raise ShapeError(unknown_variant(value, variants))
        if isinstance(value, dict):
            if len(value) != 1:
                raise ShapeError("invalid value: map, expected map with a single key")
            (key, content), = value.items()
            if key not in variants:
                raise ShapeError(unknown_variant(key, variants))
            if key in newtype_variants:
                raise ShapeError(f"invalid {type_name} variant {quote_name(key)}")
            if content is not None:
                raise ShapeError(f"invalid type: {describe(content)}, expected unit")
            return key
        raise ShapeError(f"invalid type: {describe(value)}, expected string or map")

    return read_enum
