"""serde's derive errors for a typed document, worded and placed as serde_json places them.

The reference reads event lines and the manifest with ``serde_json::from_str`` into
derived structs. When such a document is valid JSON but not a valid value of its
type, serde reports the first problem it meets while reading the text left to right
(``invalid type: string, expected u64 at line 1 column 29``). pydantic finds the same
problems but reports them in field order and without positions, so on that error
path (only there) :func:`typed_error` reads the document again, with spans, and
walks it the way serde's derived ``Deserialize`` impls do:

- a struct takes keys in document order: a known key seen twice is ``duplicate
  field`` (placed after the key), unknown keys are skipped, and the first missing
  required field (in declaration order) is reported after the closing ``}``;
- a scalar of the wrong type is placed after the token, an array or object of the
  wrong type before it (serde peeks at it without reading it);
- an internally tagged enum reads its tag as soon as it meets it, but buffers
  every other key: errors inside the variant are placed after the enum's ``}``.

Values are named by their kind only (``string``, not its text): unlike serde, error
messages never echo trace content. ``None`` means "not a case this module
models" (some sequence forms, a type it has no Rust name for): the caller keeps
its own wording then. The spans come from ``serde_spans``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

from tracegraph.bundle.serde_spans import (
    WHITESPACE,
    NotJson,
    SpanNode,
    position,
    read_spans,
    stop_of,
)
from tracegraph.bundle.serde_syntax import syntax_error
from tracegraph.errors import safe_name, withheld_string

__all__ = [
    "RustTypes",
    "describe",
    "field_position",
    "first_error",
    "one_of",
    "rust_variant",
    "typed_error",
    "typed_verdict",
    "union_tags",
    "unknown_variant",
]

#: Rust integer types by their bounds, as pydantic's ``int`` schema carries them.
_INTEGER_NAMES: dict[tuple[Any, Any], str] = {
    (0, 2**64 - 1): "u64", (-(2**63), 2**63 - 1): "i64",
    (0, 2**32 - 1): "u32", (-(2**31), 2**31 - 1): "i32",
}


class _Unmodelled(Exception):
    """The document or type has a shape this module does not reproduce."""


class _Located(Exception):
    """serde's error: its message and the byte index it is reported at.

    ``settle``: the error was made without a position (serde's custom errors:
    missing or duplicate fields, unknown variants, anything read from a buffer). It
    takes the position of the enclosing map's reader, which first tries to close
    the map: it skips whitespace, and a ``}`` there, before placing the error.
    """

    def __init__(self, message: str, index: int, *, settle: bool = False,
                 peeked: bool = False, where: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.settle = settle
        #: serde had looked at the byte at ``index`` (not yet read it) when it failed.
        self.peeked = peeked
        #: The fields (and list indexes) down to the value, for the reader's sake.
        self.where = where

    def placed(self, data: bytes, *, from_reader: bool) -> int:
        """The byte index serde reports. ``from_reader``: a file's reader counts a byte
        it has only peeked at (after a number, before a value, at a map's end)."""
        index = self.index
        peeked = self.peeked
        if self.settle:
            while index < len(data) and data[index] in WHITESPACE:
                index += 1
            if data[index:index + 1] == b"}":
                index += 1
                peeked = False
            else:
                peeked = True
        if from_reader and peeked and index < len(data):
            index += 1
        return index


@dataclass(frozen=True, slots=True)
class RustTypes:
    """What the Rust side of a pydantic model is called and leaves out.

    ``enum_names``: the Rust enum behind each tagged union, by its set of tags;
    ``variants``: a Rust enum's variants in declaration order, where the Rust enum
    has fewer (or another order) than the union's choices; ``omitted``: fields a
    model has that the Rust struct does not (serde skips them as unknown keys);
    ``adjacent``: models that stand for an adjacently tagged Rust enum.
    """

    enum_names: dict[frozenset[str], str]
    variants: dict[str, tuple[str, ...]]
    omitted: dict[type, frozenset[str]]
    adjacent: dict[type, str]


def field_position(text: str | bytes, key: str | None, *, container_kind: bool) -> str | None:
    """Where serde places an error in the top-level object ``text``: at the value of
    field ``key`` (after a scalar; before an array or object, when the error is about
    its kind, ``container_kind``), or, for ``None``, after the closing ``}`` (a missing
    field). ``None`` when the text is no object, or the error lies inside a container.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    try:
        root = read_spans(data)
    except (_Unmodelled, NotJson, ValueError, IndexError, RecursionError):
        return None
    if root.kind != "object":
        return None
    if key is None:
        return position(data, root.end)
    node = next((child for name, _, child in root.entries or () if name == key), None)
    if node is None:
        return None
    if node.kind in ("object", "array"):
        return position(data, node.start) if container_kind else None
    return position(data, node.end)


def union_tags(alias: Any, tag: str = "type") -> frozenset[str]:
    """The tags of a tagged union ``Annotated[A | B | ..., Field(discriminator=tag)]``."""
    members = get_args(get_args(alias)[0])
    return frozenset(member.model_fields[tag].default for member in members)


def typed_error(text: str | bytes, model: type[BaseModel], rust: RustTypes, *,
                from_reader: bool = False, stop: int | None = None) -> str | None:
    """serde_json's error for ``text`` read as ``model``'s Rust struct, or ``None`` if
    the text reads, or is a case not modelled. ``from_reader``: read from a file
    (``serde_json::from_reader``, the manifest), not from a string (event lines).
    ``stop``: the byte index of a syntax error in the text: the error, if serde meets
    one before it, is a type error read from the text before the stop."""
    modelled, error = typed_verdict(text, model, rust, from_reader=from_reader, stop=stop)
    return error if modelled else None


def first_error(text: str | bytes, words: str, model: type[BaseModel], rust: RustTypes, *,
                duplicate: bool = False, from_reader: bool = False) -> str:
    """serde's error for a document the syntax check refused with ``words``.

    serde reads as it goes, so a type error before the refused spot (a repeated key,
    nesting past the recursion limit, broken syntax) comes first."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if duplicate or words.startswith("recursion limit exceeded"):
        modelled, typed = typed_verdict(data, model, rust, from_reader=from_reader)
        if typed is not None:
            return typed
        if duplicate:
            # Found in an object that closed before a syntax error, if there is one.
            syntax = None if modelled else syntax_error(
                data, source="reader" if from_reader else "slice")
            if syntax is None:
                return words
            words = syntax
    stop = stop_of(data, words)
    if stop is None:
        return words
    return typed_error(data, model, rust, from_reader=from_reader, stop=stop) or words


def typed_verdict(text: str | bytes, model: type[BaseModel], rust: RustTypes, *,
                  from_reader: bool = False, stop: int | None = None,
                  ) -> tuple[bool, str | None]:
    """``(modelled, error)``: whether this module could follow serde through ``text``,
    and if so serde_json's error for it (``None``: serde reads it)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    try:
        root = read_spans(data, stop=stop)
        _Walker(rust, buffered=False, end=root.end, path=[]).value(
            root, dict(model.__pydantic_core_schema__))
    except _Located as err:
        where = f" (in `{'.'.join(err.where)}`)" if err.where else ""
        index = err.placed(data, from_reader=from_reader)
        return True, f"{err.message} at {position(data, index)}{where}"
    except (_Unmodelled, NotJson, ValueError, IndexError, RecursionError):
        return False, None
    return True, None


class _Walker:
    """serde's derived deserializers, over the spans; ``buffered`` inside an internally
    tagged enum, where every error is placed at ``end``."""

    def __init__(self, rust: RustTypes, *, buffered: bool, end: int, path: list[str]) -> None:
        self.rust = rust
        self.path = path
        self.buffered = buffered
        self.end = end

    def fail(self, message: str, node: SpanNode, *, before: bool = False) -> _Located:
        """An error serde places at the value it read (or, ``before``, peeked at)."""
        if self.buffered:
            return self.located(message, self.end, settle=True)
        # A number ends where the byte after it shows it has (a peek); so does `before`.
        return self.located(message, node.start if before else node.end,
                            peeked=before or node.kind in ("integer", "float"))

    def custom(self, message: str, index: int) -> _Located:
        """An error serde makes without a position, at byte ``index`` of the text."""
        return self.located(message, self.end if self.buffered else index, settle=True)

    def located(self, message: str, index: int, *, settle: bool = False,
                peeked: bool = False) -> _Located:
        return _Located(message, index, settle=settle, peeked=peeked, where=tuple(self.path))

    def within(self, part: str, node: SpanNode, schema: dict[str, Any]) -> None:
        """:meth:`value` of a field or list element named ``part``."""
        self.path.append(part)
        try:
            self.value(node, schema)
        finally:
            self.path.pop()

    def invalid_type(self, node: SpanNode, expected: str) -> _Located:
        return self.fail(f"invalid type: {node.describe()}, expected {expected}", node,
                         before=node.kind in ("object", "array"))

    def value(self, node: SpanNode, schema: dict[str, Any]) -> None:
        kind = schema["type"]
        if node.kind == "broken":
            # A scalar (or a value not begun) cut by the syntax error: serde meets that
            # error reading it, whatever type it wants.
            raise _Unmodelled("syntax error")
        if node.deep and kind not in ("default", "model-field", "nullable", "str", "int",
                                      "bool", "enum"):
            # serde would enter it and stop at its recursion limit, as the syntax check
            # says (only a value of the wrong kind is refused before that).
            raise _Unmodelled("nested too deeply")
        if kind in ("default", "model-field"):
            self.value(node, schema["schema"])
        elif kind == "nullable":
            if node.kind != "null":
                self.value(node, schema["schema"])
        elif kind == "any":
            if node.broken:  # read in full, as far as the syntax error
                raise _Unmodelled("syntax error")
            return
        elif kind == "model":
            self.struct(node, schema["schema"], schema["cls"])
        elif kind == "tagged-union":
            self.tagged(node, schema)
        elif kind == "str":
            if node.kind != "string":
                raise self.invalid_type(node, "a string")
        elif kind == "bool":
            if node.kind != "boolean":
                raise self.invalid_type(node, "a boolean")
        elif kind == "int":
            self.integer(node, schema)
        elif kind == "enum":
            self.unit_enum(node, [member.value for member in schema["members"]])
        elif kind == "list":
            if node.kind != "array":
                raise self.invalid_type(node, "a sequence")
            for index, item in enumerate(node.items or ()):
                self.within(str(index), item, schema["items_schema"])
            if node.broken:
                raise _Unmodelled("syntax error")
        else:
            raise _Unmodelled(kind)

    def integer(self, node: SpanNode, schema: dict[str, Any]) -> None:
        rust = _INTEGER_NAMES.get((schema.get("ge"), schema.get("le")))
        if rust is None:
            raise _Unmodelled("integer width")
        if node.kind != "integer":
            raise self.invalid_type(node, rust)
        if not schema["ge"] <= node.value <= schema["le"]:
            raise self.fail(f"invalid value: integer, expected {rust}", node)

    def unit_enum(self, node: SpanNode, variants: list[str]) -> None:
        """A Rust enum of unit variants: ``"name"``, or externally tagged ``{"name": null}``."""
        if node.broken or (not self.buffered and node.kind != "string"):
            raise _Unmodelled("enum outside a buffer")
        name = node
        if node.kind == "object":
            if len(node.entries or ()) != 1:
                raise self.fail("invalid value: map, expected map with a single key", node)
            key, _, content = (node.entries or [])[0]
            if key not in variants:
                raise self.custom(unknown_variant(key, variants), node.end)
            if content.kind != "null":
                raise self.invalid_type(content, "unit")
            return
        if name.kind != "string":
            raise self.invalid_type(node, "string or map")
        if name.value not in variants:
            raise self.fail(unknown_variant(name.value, variants), node)

    def struct(self, node: SpanNode, fields_schema: dict[str, Any], cls: type,
               tag: str | None = None) -> None:
        adjacent = self.rust.adjacent.get(cls)
        if adjacent is not None:
            self.adjacent(node, fields_schema["fields"]["type"]["schema"], adjacent)
            return
        if fields_schema["type"] != "model-fields":
            raise _Unmodelled(fields_schema["type"])
        left_out = self.rust.omitted.get(cls, frozenset())
        fields = {key: field for key, field in fields_schema["fields"].items()
                  if key != tag and key not in left_out}
        if node.kind == "array":
            self.struct_sequence(node, fields, cls)
            return
        if node.kind != "object":
            raise self.invalid_type(node, f"struct {cls.__name__}")
        seen: set[str] = set()
        for key, key_end, child in node.entries or ():
            if key not in fields:
                if child.broken:  # skipped by reading it, into the syntax error
                    raise _Unmodelled("syntax error")
                continue
            if key in seen:
                raise self.custom(f"duplicate field `{key}`", key_end)
            seen.add(key)
            self.within(key, child, fields[key])
        if node.broken:  # the syntax error before the `}` that missing fields wait for
            raise _Unmodelled("syntax error")
        for key, field in fields.items():
            if key not in seen and field["schema"]["type"] not in ("default", "nullable"):
                raise self.custom(f"missing field `{key}`", node.end - 1)

    def struct_sequence(self, node: SpanNode, fields: dict[str, Any], cls: type) -> None:
        """serde's struct-from-sequence form: one element per field, in order."""
        items = node.items or []
        for index, (key, field) in enumerate(fields.items()):
            if index == len(items) and node.broken:
                raise _Unmodelled("syntax error")
            if index == len(items):
                message = (f"invalid length {index}, expected struct {cls.__name__} with "
                           f"{len(fields)} elements")
                # Read directly, it is placed after the `]`, with no map to close.
                raise (self.custom(message, node.end) if self.buffered
                       else self.located(message, node.end))
            self.within(key, items[index], field)
        if node.broken and len(items) <= len(fields):  # no `]` where serde looks for it
            raise _Unmodelled("syntax error")
        if len(items) > len(fields):
            if not self.buffered:
                # serde_json's end_seq: at the next element, as peek_position counts.
                raise self.located("trailing characters", items[len(fields)].start + 1)
            raise self.custom(f"invalid length {len(items)}, expected {len(fields)} elements "
                              "in sequence", node.end)

    def adjacent(self, node: SpanNode, tag_schema: dict[str, Any], name: str) -> None:
        """An adjacently tagged enum of unit variants (``tag = "type", content =
        "value"``), modelled as a struct of one enum field ``type``."""
        if node.broken:
            raise _Unmodelled("syntax error")
        variants = [member.value for member in tag_schema["members"]]
        content: SpanNode | None = None
        if node.kind == "array":
            # [tag, content]: the tag is read (and checked) before the content is missed.
            items = node.items or []
            if items:
                self.variant_of(items[0], tuple(variants))
            if len(items) != 2:
                raise self.custom(f"invalid length {len(items)}, expected "
                                  f"adjacently tagged enum {name}", node.end)
            tag, content = items
        elif node.kind == "object":
            self.adjacent_map(node, tuple(variants), name)
            return
        else:
            raise self.invalid_type(node, f"adjacently tagged enum {name}")
        variant = self.variant_of(tag, tuple(variants))
        if content is not None and content.kind != "null":
            raise self.invalid_type(content, f"unit variant {name}::{rust_variant(variant)}")

    def adjacent_map(self, node: SpanNode, variants: tuple[str, ...], name: str) -> None:
        """serde's map visitor for an adjacently tagged enum: the first of ``type`` and
        ``value`` decides; the tag is read when met, content met first is buffered."""
        relevant = [(key, key_end, child) for key, key_end, child in node.entries or ()
                    if key in ("type", "value")]
        if not relevant:
            raise self.custom("missing field `type`", node.end - 1)
        (first, _, first_child), rest = relevant[0], relevant[1:]
        if first == "type":
            variant = self.variant_of(first_child, variants)
            if rest and rest[0][0] == "type":
                raise self.custom("duplicate field `type`", rest[0][1])
            if rest:
                content = rest[0][2]
                if content.kind != "null":
                    raise self.invalid_type(content,
                                            f"unit variant {name}::{rust_variant(variant)}")
        else:
            if not rest:
                raise self.custom("missing field `type`", node.end - 1)
            if rest[0][0] == "value":
                raise self.custom("duplicate field `value`", rest[0][1])
            tag = rest[0][2]
            variant = self.variant_of(tag, variants)
            if first_child.kind != "null":
                # Read back from the buffer, so placed where the reader is: after the tag.
                raise self.custom(f"invalid type: {first_child.describe()}, expected unit "
                                  f"variant {name}::{rust_variant(variant)}", tag.end)
        if len(rest) > 1:
            raise self.custom(f"duplicate field `{rest[1][0]}`", rest[1][1])

    def variant_of(self, tag: SpanNode, variants: tuple[str, ...], *,
                   in_sequence: bool = False, indexes: bool = True) -> str:
        """The variant a tag names: its name, or (``indexes``: read from a buffer, or
        an adjacent tag) its index.

        ``in_sequence``: the tag is a sequence's first element, which in a damaged line
        may be any value shifted into place (content, perhaps): it is never echoed."""
        if tag.kind == "broken":  # (a container of the wrong kind is refused unread)
            raise _Unmodelled("syntax error")
        if indexes and tag.kind == "integer" and tag.value >= 0:
            if tag.value >= len(variants):
                raise self.fail(f"invalid value: integer, expected variant index "
                                f"0 <= i < {len(variants)}", tag)
            return variants[tag.value]
        if tag.kind != "string":
            raise self.invalid_type(tag, "variant identifier")
        if tag.value not in variants:
            # The string's own reader places it, right after the string.
            raise self.fail(unknown_variant(tag.value, variants, withheld=in_sequence), tag)
        return str(tag.value)

    def variant_sequence(self, node: SpanNode, enum_name: str, variant: str,
                         choice: dict[str, Any], tag: str) -> None:
        """A buffered struct variant as a sequence: the tag, then its fields in order."""
        while choice["type"] != "model":
            choice = choice["schema"]
        cls, fields_schema = choice["cls"], choice["schema"]
        left_out = self.rust.omitted.get(cls, frozenset())
        fields = [(key, field) for key, field in fields_schema["fields"].items()
                  if key != tag and key not in left_out]
        items = (node.items or [])[1:]
        rust_name = rust_variant(variant)
        for index, (key, field) in enumerate(fields):
            if index == len(items):
                noun = "element" if len(fields) == 1 else "elements"
                raise self.custom(f"invalid length {index}, expected struct variant "
                                  f"{enum_name}::{rust_name} with {len(fields)} {noun}",
                                  node.end)
            self.within(key, items[index], field)
        if len(items) > len(fields):
            raise self.custom(f"invalid length {len(items)}, expected {len(fields)} elements "
                              "in sequence", node.end)

    def tagged(self, node: SpanNode, schema: dict[str, Any]) -> None:
        tag, choices = schema["discriminator"], schema["choices"]
        name = self.rust.enum_names.get(frozenset(choices))
        if name is None:
            raise _Unmodelled("unnamed enum")
        variants = self.rust.variants.get(name, tuple(choices))
        if node.kind == "array":
            # The tag first, then the variant's fields in order (only a bad tag modelled).
            if node.broken and not node.items:
                raise _Unmodelled("syntax error")
            if not node.items:
                # Placed after the `]`, with no map to close (unlike the other custom errors).
                raise self.located(f"missing field `{tag}`",
                                   self.end if self.buffered else node.end,
                                   settle=self.buffered)
            if node.items[0].kind == "broken":
                raise _Unmodelled("syntax error")
            if not self.buffered and node.items[0].kind != "string":
                raise self.invalid_type(node.items[0], "variant identifier")
            named = self.variant_of(node.items[0], variants, in_sequence=True)
            reader = self
            if not self.buffered:
                # The tag is read directly, the rest buffered; its errors are placed
                # where reading stopped, after the `]`.
                if node.broken or any(item.holds_deep() for item in node.items[1:]):
                    raise _Unmodelled("buffering passes the recursion limit")
                reader = _Walker(self.rust, buffered=True, end=node.end, path=self.path)
            reader.variant_sequence(node, name, named, choices[named], tag)
            return
        if node.kind != "object":
            raise self.invalid_type(node, f"internally tagged enum {name}")
        variant: str | None = None
        for key, key_end, child in node.entries or ():
            if key != tag:
                if not self.buffered and child.holds_deep():
                    raise _Unmodelled("buffering passes the recursion limit")
                continue
            if variant is not None:
                raise self.custom(f"duplicate field `{tag}`", key_end)
            variant = self.variant_of(child, variants, indexes=self.buffered)
        if node.broken:  # buffering reads on into the syntax error
            raise _Unmodelled("syntax error")
        if variant is None:
            raise self.custom(f"missing field `{tag}`", node.end - 1)
        # The rest was buffered while the tag was looked for: the variant is read from
        # the buffer, and its errors are placed where reading stopped, after the `}`.
        inner = _Walker(self.rust, buffered=True, end=self.end if self.buffered else node.end,
                        path=self.path)
        choice = choices[variant]
        while choice["type"] != "model":
            choice = choice["schema"]
        inner.struct(node, choice["schema"], choice["cls"], tag=tag)


def rust_variant(tag: str) -> str:
    """The Rust name of a ``rename_all = "snake_case"`` variant: ``InferenceRequest``."""
    return "".join(part.title() for part in tag.split("_"))


def unknown_variant(name: str, variants: Sequence[str], *, withheld: bool = False) -> str:
    """serde's unknown-variant error; ``name`` shown only if it looks like a name, and
    never if ``withheld``."""
    shown = withheld_string(name) if withheld else safe_name(name)
    return f"unknown variant `{shown}`, expected {one_of(variants)}"


def describe(value: Any) -> str:
    """serde's word for the kind of a JSON value (tracegraph never shows the value)."""
    if value is None:
        return "null"
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


def one_of(names: Sequence[str]) -> str:
    """serde's list of what it expected."""
    # serde's OneOf: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
    quoted = [f"`{name}`" for name in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} or {quoted[1]}"
    return "one of " + ", ".join(quoted)
