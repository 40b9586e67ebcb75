"""serde's sequence form of structs, for the typed documents tracegraph reads.

A derived serde struct also deserializes from a JSON array holding its fields in
declaration order (exactly as many as it has), and an internally tagged enum
from an array whose first element is the tag. The reference therefore accepts
``[1, 1, 5, "r", null, null, ["thread_started", "th", "/root", null]]`` as an
event line. :func:`expand_sequences` rewrites such arrays into the objects the
models read, guided by the pydantic models' field order.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from tracegraph.bundle.serde_json import JsonError
from tracegraph.bundle.serde_typed import describe, rust_variant
from tracegraph.errors import safe_name
from tracegraph.model.payload import RawPayloadKind, RawPayloadKindName

__all__ = [
    "Omitted",
    "expand_sequences",
]


#: Fields a model does not have in a given format era (the seed's structs lack
#: the upstream-only fields, so their sequence form is shorter).
Omitted = dict[type[BaseModel], frozenset[str]]


def expand_sequences(
    value: Any, annotation: Any, omitted: Omitted | None = None
) -> tuple[Any, bool]:
    """``value`` with every struct-as-array turned into an object; and whether any was."""
    return _Expander(omitted or {}).expand(value, annotation)


def _variants(annotation: Any) -> list[type[BaseModel]] | None:
    """The model variants of a discriminated union annotation, else ``None``."""
    if get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if members and all(
            isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
            for m in members
        ):
            return members
    return None


def _tag(model: type[BaseModel]) -> Any:
    literal = model.model_fields["type"].annotation
    return get_args(literal)[0] if get_origin(literal) is Literal else None


class _Expander:
    def __init__(self, omitted: Omitted) -> None:
        self.omitted = omitted
        #: Inside an internally tagged enum's variant, which serde reads from a buffer
        #: (its ``Content``), where a tag may also be a variant index.
        self.buffered = False

    def names(self, model: type[BaseModel]) -> list[str]:
        skip = self.omitted.get(model, frozenset())
        return [name for name in model.model_fields if name not in skip]

    def expand(self, value: Any, annotation: Any) -> tuple[Any, bool]:
        return _expand(self, value, annotation)


def _expand(ex: _Expander, value: Any, annotation: Any) -> tuple[Any, bool]:
    if value is None:
        return value, False
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _expand(ex, value, get_args(annotation)[0])
    variants = _variants(annotation)
    if variants is not None:
        return _expand_tagged(ex, value, variants)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _expand(ex, value, members[0]) if len(members) == 1 else (value, False)
    if origin is list and isinstance(value, list):
        (element,) = get_args(annotation) or (Any,)
        changed = False
        out = []
        for item in value:
            new, item_changed = _expand(ex, item, element)
            out.append(new)
            changed = changed or item_changed
        return out, changed
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _expand_model(ex, value, annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and isinstance(
            value, dict):
        return _unit_variant_map(value, [member.value for member in annotation]), True
    return value, False


def _unit_variant_map(value: dict[str, Any], variants: list[Any]) -> Any:
    """serde's externally tagged form of a unit variant, ``{"name": null}``, as its name."""
    if len(value) != 1:
        raise JsonError("invalid value: map, expected map with a single key")
    ((name, content),) = value.items()
    if name not in variants:
        raise JsonError(f"unknown variant `{safe_name(name)}`")
    if content is not None:
        raise JsonError(f"invalid type: {describe(content)}, expected unit")
    return name


def _expand_model(ex: _Expander, value: Any, model: type[BaseModel]) -> tuple[Any, bool]:
    changed = False
    if model is RawPayloadKind:
        return _adjacent_kind(value)
    if isinstance(value, list):
        names = ex.names(model)
        if len(value) != len(names):
            raise JsonError(
                f"invalid length {len(value)}, expected struct {model.__name__} "
                f"with {len(names)} elements"
            )
        value = dict(zip(names, value, strict=True))
        changed = True
    if not isinstance(value, dict):
        return value, changed
    out = dict(value)
    for name, info in model.model_fields.items():
        if name in out:
            out[name], field_changed = _expand(ex, out[name], info.annotation)
            changed = changed or field_changed
    return (out if changed else value), changed


def _adjacent_kind(value: Any) -> tuple[Any, bool]:
    """``RawPayloadKind`` as serde reads it, adjacently tagged (``tag = "type", content =
    "value"``) with unit variants only: ``{"type": T}`` or ``[T, null]``, where ``T`` is a
    variant's name or its index, and unit content may be given as ``"value": null``.
    Only ``{"type": name}`` is left for the model (which takes no other key)."""
    if isinstance(value, list):
        # Adjacently tagged: [tag, content]; unit variants carry null content.
        if len(value) != 2 or value[1] is not None:
            raise JsonError("invalid length or content for adjacently tagged RawPayloadKind")
        return {"type": _kind_tag(value[0])}, True
    if not isinstance(value, dict) or "type" not in value:
        return value, False  # the model's own validation names what is wrong
    content = value.get("value")
    if content is not None:
        raise JsonError(f"invalid type: {describe(content)}, expected unit variant "
                        f"RawPayloadKind::{_rust_name(_kind_tag(value['type']))}")
    tag = _kind_tag(value["type"])
    if value.keys() == {"type"} and tag is value["type"]:
        return value, False
    return {"type": tag}, True


def _kind_tag(tag: Any) -> Any:
    """A variant index (serde's field identifiers take one) as the variant's name."""
    if isinstance(tag, bool) or not isinstance(tag, int):
        return tag
    if tag < 0:
        raise JsonError("invalid type: integer, expected variant identifier")
    names = [member.value for member in RawPayloadKindName]
    if not 0 <= tag < len(names):
        raise JsonError(f"invalid value: integer, expected variant index 0 <= i < {len(names)}")
    return names[tag]


def _rust_name(tag: Any) -> str:
    return rust_variant(tag) if isinstance(tag, str) else "?"


def _expand_tagged(
    ex: _Expander, value: Any, variants: list[type[BaseModel]]
) -> tuple[Any, bool]:
    by_tag = {_tag(variant): variant for variant in variants}
    if isinstance(value, list):
        if not value:
            raise JsonError("invalid length 0, expected a tagged enum")
        tag = _buffered_tag(ex, value[0], variants)
        # An unhashable tag (a list, an object) is no variant's tag either.
        variant = by_tag.get(tag) if isinstance(tag, str) else None
        if variant is None:
            return value, False  # the model's own validation names the unknown tag
        names = [name for name in ex.names(variant) if name != "type"]
        if len(value) - 1 != len(names):
            raise JsonError(
                f"invalid length {len(value) - 1}, expected struct variant "
                f"{variant.__name__} with {len(names)} elements"
            )
        expanded, _ = _expand_variant(ex, dict(zip(names, value[1:], strict=True)), variant)
        return {"type": tag, **expanded}, True
    if isinstance(value, dict):
        tag = _buffered_tag(ex, value.get("type"), variants)
        changed = tag is not value.get("type")
        if changed:
            value = {**value, "type": tag}
        variant = by_tag.get(tag) if isinstance(tag, str) else None
        if variant is not None:
            expanded, variant_changed = _expand_variant(ex, value, variant)
            return expanded, changed or variant_changed
    return value, False


def _buffered_tag(ex: _Expander, tag: Any, variants: list[type[BaseModel]]) -> Any:
    """A tag read from a buffer may be a variant index (serde's identifiers take a u64):
    the variant's tag then, else ``tag`` as it is."""
    if not ex.buffered or type(tag) is not int or tag < 0:
        return tag
    if tag >= len(variants):
        raise JsonError(f"invalid value: integer, expected variant index 0 <= i < {len(variants)}")
    return _tag(variants[tag])


def _expand_variant(ex: _Expander, value: Any, variant: type[BaseModel]) -> tuple[Any, bool]:
    """A variant's fields, which serde reads from the buffer the enum was read into."""
    buffered, ex.buffered = ex.buffered, True
    try:
        return _expand_model(ex, value, variant)
    finally:
        ex.buffered = buffered
