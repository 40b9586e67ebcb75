"""serde's sequence form of structs, for the typed documents tracegraph reads.

A derived serde struct also deserializes from a JSON array holding its fields in
declaration order (exactly as many as it has), and an internally tagged enum
from an array whose first element is the tag. The reference therefore accepts
``[1, 1, 5, "r", null, null, ["thread_started", "th", "/root", null]]`` as an
event line. :func:`expand_sequences` rewrites such arrays into the objects the
models read, guided by the pydantic models' field order.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from tracegraph.bundle.serde_json import JsonError
from tracegraph.model.payload import RawPayloadKind

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
    return value, False


def _expand_model(ex: _Expander, value: Any, model: type[BaseModel]) -> tuple[Any, bool]:
    changed = False
    if isinstance(value, list):
        if model is RawPayloadKind:
            # Adjacently tagged: [tag, content]; unit variants carry null content.
            if len(value) != 2 or value[1] is not None:
                raise JsonError("invalid length or content for adjacently tagged RawPayloadKind")
            return {"type": value[0]}, True
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


def _expand_tagged(
    ex: _Expander, value: Any, variants: list[type[BaseModel]]
) -> tuple[Any, bool]:
    by_tag = {_tag(variant): variant for variant in variants}
    if isinstance(value, list):
        if not value:
            raise JsonError("invalid length 0, expected a tagged enum")
        # An unhashable tag (a list, an object) is no variant's tag either.
        variant = by_tag.get(value[0]) if isinstance(value[0], str) else None
        if variant is None:
            return value, False  # the model's own validation names the unknown tag
        names = [name for name in ex.names(variant) if name != "type"]
        if len(value) - 1 != len(names):
            raise JsonError(
                f"invalid length {len(value) - 1}, expected struct variant "
                f"{variant.__name__} with {len(names)} elements"
            )
        expanded, _ = _expand_model(ex, dict(zip(names, value[1:], strict=True)), variant)
        return {"type": value[0], **expanded}, True
    if isinstance(value, dict):
        tag = value.get("type")
        variant = by_tag.get(tag) if isinstance(tag, str) else None
        if variant is not None:
            return _expand_model(ex, value, variant)
    return value, False
