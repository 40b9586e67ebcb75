"""``manifest.json``: trace identity and bundle layout."""

from __future__ import annotations

import json

from pydantic import ValidationError

from tracegraph.bundle import serde_json
from tracegraph.bundle.seq_form import expand_sequences
from tracegraph.bundle.serde_typed import RustTypes, first_error, typed_error
from tracegraph.errors import BundleError
from tracegraph.model._base import I64, U32, TraceModel

__all__ = [
    "MANIFEST_FILE_NAME",
    "PAYLOADS_DIR_NAME",
    "RAW_EVENT_LOG_FILE_NAME",
    "REDUCED_STATE_FILE_NAME",
    "TRACE_MANIFEST_SCHEMA_VERSION",
    "TraceBundleManifest",
    "parse_manifest",
]


MANIFEST_FILE_NAME = "manifest.json"
RAW_EVENT_LOG_FILE_NAME = "trace.jsonl"
PAYLOADS_DIR_NAME = "payloads"
REDUCED_STATE_FILE_NAME = "state.json"
TRACE_MANIFEST_SCHEMA_VERSION = 1


class TraceBundleManifest(TraceModel):
    schema_version: U32
    trace_id: str
    rollout_id: str
    #: Replay fails rather than inventing a placeholder root.
    root_thread_id: str
    started_at_unix_ms: I64
    raw_event_log: str
    payloads_dir: str


_RUST_TYPES = RustTypes(enum_names={}, variants={}, omitted={}, adjacent={})


#: The manifest's fields as serde names them; it skips any other key.
_MANIFEST_FIELDS = frozenset(TraceBundleManifest.model_fields)


def parse_manifest(text: str, *, path: str, unknown_blanked: bool = False,
                   original: str | None = None) -> TraceBundleManifest:
    """The manifest ``text`` (``original``: as written, where ``text`` rewrites it)."""
    written = text if original is None else original
    try:
        document = serde_json.check_typed_document(text, source="reader")
    except serde_json.JsonError as refused:
        again = serde_json.reread_typed(text, refused, _MANIFEST_FIELDS, source="reader",
                                        unknown_blanked=unknown_blanked)
        if isinstance(again, serde_json.Reread):
            return parse_manifest(again.text, path=path, unknown_blanked=True,
                                  original=written if again.numbers_rewritten else None)
        err = again
        # Placed where serde meets it, unless a type error comes first.
        words = first_error(text, str(err), TraceBundleManifest, _RUST_TYPES,
                            duplicate=isinstance(err, serde_json.DuplicateKey),
                            from_reader=True)
        raise BundleError(f"read {path}: {words}") from err
    try:
        document, expanded = expand_sequences(document, TraceBundleManifest)
    except serde_json.JsonError as err:
        # serde reads an array's elements in order: an element's type error comes first.
        serde_words = typed_error(written, TraceBundleManifest, _RUST_TYPES, from_reader=True)
        raise BundleError(f"read {path}: {serde_words or err}") from err
    if expanded:
        text = json.dumps(document, ensure_ascii=False)
    try:
        manifest = TraceBundleManifest.model_validate_json(text, strict=True)
    except ValidationError as err:
        # serde's words and position, as the reference words them ("read PATH: ...").
        serde_words = None if expanded else typed_error(
            written, TraceBundleManifest, _RUST_TYPES, from_reader=True)
        if serde_words is not None:
            raise BundleError(f"read {path}: {serde_words}") from err
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        raise BundleError(f"{path}: invalid manifest: {detail}") from err
    # The reference reads any version (none has changed the layout), and so does this.
    return manifest
