"""Reading a trace bundle: manifest, the ordered event log, lazy payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tracegraph.bundle import serde_json
from tracegraph.bundle.events import (
    EVENT_TYPES,
    SEED_OMITTED,
    UPSTREAM_EVENT_FIELDS,
    UPSTREAM_EVENT_TYPES,
    RawTraceEvent,
)
from tracegraph.bundle.manifest import (
    MANIFEST_FILE_NAME,
    RAW_EVENT_LOG_FILE_NAME,
    TraceBundleManifest,
    parse_manifest,
)
from tracegraph.bundle.seq_form import expand_sequences
from tracegraph.errors import BundleError, TraceError
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import RawPayloadRef

# Rust's `str::trim` strips Unicode White_Space; Python's `str.strip()` would
# also strip U+001C..U+001F, which serde then rejects as JSON.
_RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True, slots=True)
class EventLine:
    """One parsed event and the 1-based line of ``trace.jsonl`` it came from."""

    line: int
    event: RawTraceEvent


@dataclass(frozen=True, slots=True)
class SkippedEvent:
    """An event of a type this dialect does not know, skipped under ``lenient``."""

    line: int
    seq: int | None
    event_type: str


class TraceBundle:
    """A bundle directory on disk. Payload files are read only when asked for."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest_path = self.path / MANIFEST_FILE_NAME
        try:
            text = manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError as err:
            raise BundleError(f"{manifest_path}: no manifest (is this a trace bundle?)") from err
        except (OSError, UnicodeDecodeError) as err:
            raise BundleError(f"{manifest_path}: cannot read manifest: {err}") from err
        self.manifest: TraceBundleManifest = parse_manifest(text, path=str(manifest_path))
        # The reference always uses the standard layout names, whatever the
        # manifest's raw_event_log/payloads_dir say.
        self.event_log_path = self.path / RAW_EVENT_LOG_FILE_NAME
        self._root = self.path.resolve()

    def iter_lines(self) -> Iterator[tuple[int, str]]:
        """Non-blank lines of the event log with their 1-based line numbers."""
        try:
            handle = self.event_log_path.open("rb")
        except OSError as err:
            raise BundleError(
                f"{self.event_log_path}: cannot open trace event log: {err.strerror or err}"
            ) from err
        with handle:
            for index, raw in enumerate(handle, start=1):
                if raw.endswith(b"\r\n"):
                    raw = raw[:-2]
                elif raw.endswith(b"\n"):
                    raw = raw[:-1]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise TraceError(
                        "read trace event line: stream did not contain valid UTF-8",
                        line=index, path=str(self.event_log_path),
                    ) from err
                if not text.strip(_RUST_WHITESPACE):
                    continue
                yield index, text

    def iter_events(
        self,
        dialect: Dialect = Dialect.SEED,
        *,
        skipped: list[SkippedEvent] | None = None,
    ) -> Iterator[EventLine]:
        """Yield events in file order; blank lines are skipped but counted.

        Event types unknown to ``dialect`` are an error, unless a ``skipped``
        list is given (lenient mode): then they are recorded there and skipped.
        """
        for index, text in self.iter_lines():
            event = parse_event_line(
                text, line=index, path=str(self.event_log_path), dialect=dialect,
                skipped=skipped,
            )
            if event is not None:
                yield EventLine(index, event)

    def detect_dialect(self) -> tuple[Dialect, str]:
        """Pick the dialect from evidence in the event log, with the reason."""
        for index, text in self.iter_lines():
            try:
                value = json.loads(text)
            except ValueError:
                continue
            payload = value.get("payload") if isinstance(value, dict) else None
            if not isinstance(payload, dict):
                continue
            event_type = payload.get("type")
            if event_type in UPSTREAM_EVENT_TYPES:
                return Dialect.UPSTREAM, f"line {index}: {event_type} event"
            for upstream_type, field_name, _ in UPSTREAM_EVENT_FIELDS:
                if event_type == upstream_type and field_name in payload:
                    return Dialect.UPSTREAM, f"line {index}: {event_type}.{field_name}"
        return Dialect.SEED, "no newer-format evidence"

    def payload_path(self, ref: RawPayloadRef) -> Path:
        """Resolve a payload ref inside the bundle, refusing paths that escape it."""
        relative = Path(ref.path)
        if relative.is_absolute() or ".." in relative.parts:
            raise BundleError(
                f"payload {ref.raw_payload_id} path {ref.path!r} escapes the bundle directory"
            )
        candidate = self.path / relative
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self._root):
            raise BundleError(
                f"payload {ref.raw_payload_id} path {ref.path!r} escapes the bundle directory"
            )
        return candidate

    def read_payload(self, ref: RawPayloadRef) -> Any:
        """Parse one payload file as a JSON value (serde_json rules)."""
        path = self.payload_path(ref)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise BundleError(
                f"open payload {ref.raw_payload_id}: {path}: {err.strerror or err}"
            ) from err
        try:
            return serde_json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, serde_json.JsonError) as err:
            raise BundleError(f"parse payload {ref.raw_payload_id}: {path}: {err}") from err


def parse_event_line(
    text: str,
    *,
    line: int,
    path: str | None = None,
    dialect: Dialect = Dialect.SEED,
    skipped: list[SkippedEvent] | None = None,
) -> RawTraceEvent | None:
    """Parse one ``trace.jsonl`` line; errors name the line and, if known, the seq.

    Returns ``None`` for an event skipped in lenient mode.
    """
    try:
        document = serde_json.check_typed_document(text)
        document, expanded = expand_sequences(
            document, RawTraceEvent, SEED_OMITTED if dialect is Dialect.SEED else None
        )
    except serde_json.JsonError as err:
        raise TraceError(
            f"parse trace event line {line}: {err}",
            line=line, seq=_best_effort_seq(text), path=path,
        ) from err
    if expanded:
        # serde's struct-as-array form: validate the rewritten objects instead.
        text = json.dumps(document, ensure_ascii=False)
    known = EVENT_TYPES if dialect is Dialect.SEED else (*EVENT_TYPES, *UPSTREAM_EVENT_TYPES)
    payload = document.get("payload") if isinstance(document, dict) else None
    event_type = payload.get("type") if isinstance(payload, dict) else None
    if isinstance(event_type, str) and event_type not in known:
        if skipped is not None:
            skipped.append(SkippedEvent(line, _best_effort_seq(text), event_type))
            return None
        raise TraceError(
            f"parse trace event line {line}: unknown event type {event_type!r} "
            f"for the {dialect.value} dialect (expected one of {', '.join(known)})",
            line=line, seq=_best_effort_seq(text), path=path,
        )
    if dialect is Dialect.SEED and isinstance(payload, dict):
        # The seed has no such fields: serde ignores them whatever they hold.
        stripped = [
            name for upstream_type, name, _ in UPSTREAM_EVENT_FIELDS
            if event_type == upstream_type and name in payload
        ]
        if stripped:
            for name in stripped:
                del payload[name]
            text = json.dumps(document, ensure_ascii=False)
    try:
        return RawTraceEvent.model_validate_json(text, strict=True)
    except ValidationError as err:
        raise TraceError(
            f"parse trace event line {line}: {_describe(err, text)}",
            line=line, seq=_best_effort_seq(text), path=path,
        ) from err


def _best_effort_seq(text: str) -> int | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def _describe(err: ValidationError, text: str) -> str:
    first = err.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if first["type"] == "json_invalid":
        return f"invalid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
    if first["type"] == "union_tag_invalid":
        tag = first.get("input", {}).get("type") if isinstance(first.get("input"), dict) else None
        if loc == ["payload"]:
            return f"unknown event type {tag!r} (expected one of {', '.join(EVENT_TYPES)})"
        return f"{'.'.join(loc)}: unknown variant {tag!r}"
    if first["type"] == "union_tag_not_found":
        return f"{'.'.join(loc)}: missing field `type`"
    if first["type"] == "missing":
        return f"missing field `{loc[-1]}`" + (f" in {'.'.join(loc[:-1])}" if loc[:-1] else "")
    where = ".".join(loc)
    return f"{where}: {first['msg']}" if where else first["msg"]
