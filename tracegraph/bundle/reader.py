"""Reading a trace bundle: manifest, the ordered event log, lazy payloads.

Each event line is read as bytes and parsed once on the fast path
(:func:`parse_event_line`); only a line that needs serde's exact rules (array
form, repeated keys, unusual numbers, deep nesting, bad input) is parsed again
by the exact path, which also words the errors.
"""

from __future__ import annotations

import errno
import functools
import heapq
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from tracegraph.bundle import serde_json
from tracegraph.bundle.detect import PayloadEvidence
from tracegraph.bundle.events import (
    EVENT_ENUMS,
    EVENT_TYPES,
    SEED_OMITTED,
    STARTED_ID_FIELD,
    UPSTREAM_EVENT_FIELDS,
    UPSTREAM_EVENT_TYPES,
    RawTraceEvent,
    upstream_event_evidence,
)
from tracegraph.bundle.files import decode_utf8, is_utf8, open_regular, read_regular
from tracegraph.bundle.limits import DEFAULT_LIMITS, Limits
from tracegraph.bundle.log import EventLogReader, decode_line, is_blank
from tracegraph.bundle.manifest import (
    MANIFEST_FILE_NAME,
    RAW_EVENT_LOG_FILE_NAME,
    TraceBundleManifest,
    parse_manifest,
)
from tracegraph.bundle.seq_form import expand_sequences
from tracegraph.bundle.serde_syntax import is_cut_short, syntax_error
from tracegraph.bundle.serde_typed import (
    RustTypes,
    first_error,
    typed_error,
    typed_verdict,
    union_tags,
)
from tracegraph.errors import (
    BundleError,
    LimitError,
    MissingPayloadError,
    TraceError,
    TracegraphError,
    quote_name,
    safe_name,
)
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import RawPayloadKind, RawPayloadRef

# Lines that may hold newer-format evidence: an upstream type or field name, or
# any ``\u`` escape (which could spell one). Only these are parsed by detection.
_UPSTREAM_HINT = re.compile(
    "|".join(
        re.escape(name)
        for name in (*UPSTREAM_EVENT_TYPES, *(field for _, field, _ in UPSTREAM_EVENT_FIELDS))
    ).encode()
    + rb"|\\u"
)

__all__ = [
    "EventLine",
    "SkippedEvent",
    "TornLine",
    "TraceBundle",
    "parse_event_line",
]


@dataclass(frozen=True, slots=True)
class EventLine:
    """One parsed event and the 1-based line of ``trace.jsonl`` it came from."""

    line: int
    event: RawTraceEvent


@dataclass(frozen=True, slots=True)
class SkippedEvent:
    """An event skipped under ``lenient``: of a type this dialect does not know, or of a
    known type with a variant it does not know inside (``unknown_variant``)."""

    line: int
    seq: int | None
    event_type: str
    #: ``(field, tag)``: the payload field (dotted) whose tagged value has a tag no
    #: variant of its type has, such as a fork's ``requester`` ``continuity_diagnostic``.
    unknown_variant: tuple[str, str] | None = None
    #: What the event skipped for its variant would have started, as ``(field, id)``
    #: (see ``STARTED_ID_FIELD``): later events naming it (its end, say) are left out too.
    ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TornLine:
    """An unfinished final line (no newline, a JSON text that stops mid-value): a record
    still being written."""

    line: int
    #: Bytes of the unfinished line.
    size: int


#: Lines that ``_UPSTREAM_HINT`` finds hold one of these.
_HINT_MARKERS = frozenset(
    (*(name.encode() for name in UPSTREAM_EVENT_TYPES),
     *(field.encode() for _, field, _ in UPSTREAM_EVENT_FIELDS), b"\\u")
)


#: ``bytes.find`` is slow for this two-byte needle (``u`` is common); ``re`` is not.
_ESCAPE = re.compile(rb"\\u")


def _find(data: bytes, marker: bytes, start: int) -> int:
    if marker == b"\\u":
        match = _ESCAPE.search(data, start)
        return -1 if match is None else match.start()
    return data.find(marker, start)


#: Bytes of the log detection reads at once (at most the line limit).
_DETECTION_WINDOW = 32 * 1024 * 1024
NO_EVIDENCE = "no newer-format evidence"


def _marked_lines(data: bytes, scan: PayloadEvidence) -> Iterator[tuple[int, bytes, bool]]:
    """``(offset, bytes, hinted)`` of the lines of ``data`` that ``scan`` may want or
    that ``_UPSTREAM_HINT`` finds (``hinted``), in order; no other line can be evidence.

    Lines as :meth:`TraceBundle.iter_lines` yields them (newline and one ``\\r``
    before it removed; a final line without newline kept whole), by the offset
    where they start. Each marker is found over the whole log, far cheaper than
    looking at every line, and the markers are merged by position (a heap).
    """
    markers = dict.fromkeys((*PayloadEvidence.MARKERS, *_HINT_MARKERS))
    heap = [(at, marker) for marker in markers if (at := _find(data, marker, 0)) >= 0]
    heapq.heapify(heap)
    while heap:
        start = data.rfind(b"\n", 0, heap[0][0]) + 1
        end = data.find(b"\n", heap[0][0])
        if end < 0:
            end = len(data)
            raw = data[start:]
        else:
            raw = data[start:end - 1] if data[end - 1:end] == b"\r" else data[start:end]
        # Markers in this line are done with; find each one's next line.
        hinted = False
        while heap and heap[0][0] < end:
            _, marker = heapq.heappop(heap)
            hinted = hinted or marker in _HINT_MARKERS
            if scan.still_wants(marker) and (at := _find(data, marker, end)) >= 0:
                heapq.heappush(heap, (at, marker))
        yield start, raw, hinted


def _line_evidence(raw: bytes, scan: PayloadEvidence) -> str | None:
    """What in this event line shows the newer format, if anything."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    payload = value.get("payload") if isinstance(value, dict) else None
    if not isinstance(payload, dict):
        return None
    reason = upstream_event_evidence(payload)
    # Current Codex changed payload shapes, not events (upstream-delta-2.md).
    return reason if reason is not None else scan.check(payload)


class TraceBundle:
    """A bundle directory on disk. Payload files are read only when asked for.

    Every file is read within ``limits`` (default :data:`DEFAULT_LIMITS`) and only
    if it is a regular file inside the bundle (see :mod:`tracegraph.bundle.files`).
    """

    def __init__(self, path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        self._root = self.path.resolve()
        manifest_path = self.path / MANIFEST_FILE_NAME
        try:
            data = read_regular(
                manifest_path, root=self._root, what="manifest", max_bytes=limits.line_bytes,
                too_big=lambda size: limits.exceeded(
                    "line-bytes", f"{manifest_path}: manifest ({size} bytes)"),
            )
        except FileNotFoundError as err:
            raise BundleError(
                f"{manifest_path}: no manifest (is this a trace bundle?): {_io_error(err)}"
            ) from err
        except IsADirectoryError as err:
            # serde_json's from_reader fails on the read: its error, then its source.
            raise BundleError(
                f"read {manifest_path}: {_io_error(err)}: {_io_error(err)}") from err
        except OSError as err:
            raise BundleError(
                f"{manifest_path}: cannot read manifest: {_io_error(err)}"
            ) from err
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            # serde reads the bytes and stops at the first bad one, in its own words.
            words = syntax_error(data, source="reader")
            if words is not None:
                raise BundleError(f"read {manifest_path}: {words}") from err
            text = decode_utf8(data, path=manifest_path, what="manifest")
        self.manifest: TraceBundleManifest = parse_manifest(text, path=str(manifest_path))
        # The reference always uses the standard layout names, whatever the
        # manifest's raw_event_log/payloads_dir say.
        self.event_log_path = self.path / RAW_EVENT_LOG_FILE_NAME
        #: Payload directory (as written in refs) -> whether it is plain and resolves
        #: inside the bundle.
        self._directory_inside: dict[str, bool] = {}
        #: What a plain ref path is joined to: ``str(self.path / ref)`` without pathlib.
        root_text = str(self.path)
        self._prefix = "" if root_text == "." else root_text.rstrip("/") + "/"
        self._log_bytes = 0
        self._payload_bytes = 0
        self._payloads_counted: set[str] = set()
        #: Whether the event log grew while it was last read (the rest waits for later).
        self.log_grew = False

    def _read_log(self) -> Iterator[tuple[int, bytes, bool]]:
        """Non-blank lines ``(number, bytes, complete)``; only the last may be incomplete
        (no newline: perhaps still being written)."""
        reader = EventLogReader(self.event_log_path, limits=self.limits, root=self._root)
        for index, raw in reader:
            # Known once the log is open; payloads read meanwhile count against the total.
            self._log_bytes = reader.end
            yield index, raw, True
        self._log_bytes = reader.end
        self.log_grew = reader.grew
        tail = reader.tail
        if tail and (tail[:1] == b"{" or not is_blank(
                decode_line(tail, reader.next_line, self.event_log_path))):
            if reader.events + 1 > self.limits.events:
                raise self.limits.exceeded("events", f"{self.event_log_path}: line "
                                                     f"{reader.next_line}")
            yield reader.next_line, tail, False

    def iter_lines(self) -> Iterator[tuple[int, bytes]]:
        """Non-blank lines of the event log (bytes, newline removed), 1-based numbers.

        A line starting with ``{`` is not blank and is passed on undecoded: the
        parser checks its UTF-8. Other lines are decoded here to test blankness.
        """
        for index, raw, _ in self._read_log():
            yield index, raw

    def iter_events(
        self,
        dialect: Dialect = Dialect.SEED,
        *,
        skipped: list[SkippedEvent] | None = None,
        torn: list[TornLine] | None = None,
    ) -> Iterator[EventLine]:
        """Yield events in file order; blank lines are skipped but counted.

        Event types unknown to ``dialect`` are an error, unless a ``skipped``
        list is given (lenient mode): then they are recorded there and skipped.
        A final line with no newline that stops mid-record is an error, unless a
        ``torn`` list is given: then it is recorded there and left out.
        """
        log = str(self.event_log_path)
        for index, raw, complete in self._read_log():
            if not complete and torn is not None and is_cut_short(raw):
                torn.append(TornLine(index, len(raw)))
                return
            event = parse_event_line(raw, line=index, path=log, dialect=dialect,
                                     skipped=skipped)
            if event is not None:
                yield EventLine(index, event)

    def detect_dialect(self) -> tuple[Dialect, str]:
        """Pick the dialect from evidence in the event log, with the reason.

        A quick scan: only lines that mention an upstream name, or name an event
        whose payload may show a newer shape, are parsed. The names are searched
        for in large windows of the log when that cannot fail where reading line
        by line would (see ``_detect_in_windows``); else lines are read one by one.
        """
        found = self._detect_in_windows(
            PayloadEvidence(self.manifest.root_thread_id, self._evidence_bytes))
        if found is not None:
            return (Dialect.UPSTREAM, found) if found else (Dialect.SEED, NO_EVIDENCE)
        # Line by line, as the replay reads (a fresh scan: the windows' one may be midway).
        payload_scan = PayloadEvidence(self.manifest.root_thread_id, self._evidence_bytes)
        lines = self.iter_lines()
        while True:
            try:
                index, raw = next(lines)
            except StopIteration:
                break
            except (TraceError, LimitError):
                # A line the log reader refuses (not UTF-8, past a limit): the replay
                # stops there too, and says so in its turn, after any earlier line's error.
                break
            hinted = _UPSTREAM_HINT.search(raw) is not None
            if (hinted or payload_scan.wants(raw)) and (
                    reason := _line_evidence(raw, payload_scan)) is not None:
                return Dialect.UPSTREAM, f"line {index}: {reason}"
        return Dialect.SEED, NO_EVIDENCE

    def _detect_in_windows(self, scan: PayloadEvidence) -> str | None:
        """Detection over large windows of the log: the evidence (``""`` for none), or
        ``None`` where reading line by line might raise an error.

        Line by line, the log reader raises on a line over the limit, too many
        lines, a line it decodes (to test blankness) that is not UTF-8, or a log
        that changes size. None of that can happen in a window of at most one
        line's limit (cut after a newline), of valid UTF-8, with no more lines up to
        its end than the events limit; anything else is left to the line reader,
        which detection then runs from the start (evidence found meanwhile is
        found again: reads of payloads have no effect but their counting, once).
        """
        limits = self.limits
        window = min(limits.line_bytes, _DETECTION_WINDOW)
        try:
            with open_regular(self.event_log_path, root=self._root,
                              what="trace event log") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > limits.bundle_bytes:
                    return None
                # What the line reader records once the log is open (payloads count on it).
                self._log_bytes = size
                carry, lines_before, done = b"", 0, 0
                while done < size:
                    chunk = handle.read(min(window - len(carry), size - done))
                    if not chunk:
                        return None  # shrank: the line reader reports it
                    done += len(chunk)
                    data = carry + chunk
                    if done < size:
                        cut = data.rfind(b"\n") + 1
                        if cut == 0:
                            return None  # a line as long as the window
                        data, carry = data[:cut], data[cut:]
                    else:
                        carry = b""
                    if not (data.isascii() or is_utf8(data)):
                        return None
                    newlines = data.count(b"\n")
                    # Events are lines: with no more lines than the limit (one more if
                    # the last has no newline), the line reader cannot hit it here.
                    if lines_before + newlines + 1 > limits.events:
                        return None
                    for start, raw, hinted in _marked_lines(data, scan):
                        if (hinted or scan.wants(raw)) and (
                                reason := _line_evidence(raw, scan)) is not None:
                            line = lines_before + data.count(b"\n", 0, start) + 1
                            return f"line {line}: {reason}"
                    lines_before += newlines
                self.log_grew = os.fstat(handle.fileno()).st_size > size
        except (OSError, TracegraphError):
            return None
        return ""

    def _evidence_bytes(self, ref: dict[str, Any]) -> bytes | None:
        """A payload file's bytes for detection (within the limits); ``None`` when it
        cannot be read: the replay reports that, not detection."""
        try:
            return self._read_payload_bytes(RawPayloadRef.model_validate(ref))[1]
        except (ValidationError, TracegraphError):
            return None

    def payload_path(self, ref: RawPayloadRef) -> Path:
        """Resolve a payload ref inside the bundle, refusing paths that escape it."""
        relative = Path(ref.path)
        if "\x00" in ref.path:
            raise BundleError(f"payload {ref.raw_payload_id} path is not a file name (NUL byte)")
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

    def _plain_path(self, ref_path: str) -> str | None:
        """The file path of a plain ref (relative, no ``.``, ``..``, empty or NUL part)
        whose directory resolves inside the bundle, checked once per directory; the
        file is then opened without resolving it (but never through a symlink)."""
        directory, _, name = ref_path.rpartition("/")
        inside = self._directory_inside.get(directory)
        if inside is None:
            parts = directory.split("/") if directory else []
            inside = "\x00" not in directory and all(
                part not in ("", ".", "..") for part in parts
            ) and (self.path / directory).resolve().is_relative_to(self._root)
            self._directory_inside[directory] = inside
        if not inside or name in ("", ".", "..") or "\x00" in name:
            return None
        return self._prefix + ref_path

    def _read_payload_bytes(self, ref: RawPayloadRef) -> tuple[str | Path, bytes]:
        limits = self.limits
        path: str | Path | None = self._plain_path(ref.path)

        def too_big(size: int) -> LimitError:
            return limits.exceeded(
                "payload-bytes", f"payload {ref.raw_payload_id}: {path} ({size} bytes)")

        what = f"payload {ref.raw_payload_id}"
        try:
            if path is None:
                path = self.payload_path(ref)
                data = read_regular(path, root=self._root, what=what,
                                    max_bytes=limits.payload_bytes, too_big=too_big)
            else:
                try:
                    data = read_regular(path, root=self._root, what=what,
                                        max_bytes=limits.payload_bytes, too_big=too_big,
                                        checked=True)
                except OSError as err:
                    if err.errno != errno.ELOOP:
                        raise
                    # The file is a symlink: resolve it, and refuse it if it leaves the bundle.
                    path = self.payload_path(ref)
                    data = read_regular(path, root=self._root, what=what,
                                        max_bytes=limits.payload_bytes, too_big=too_big)
        except FileNotFoundError as err:
            raise MissingPayloadError(
                f"{path}: open payload {ref.raw_payload_id}: {_io_error(err)}",
                ref.raw_payload_id,
            ) from err
        except IsADirectoryError as err:
            # Opened, then serde_json's from_reader fails on the read (error and source).
            raise BundleError(f"{path}: parse payload {ref.raw_payload_id}: "
                              f"{_io_error(err)}: {_io_error(err)}") from err
        except OSError as err:
            raise BundleError(
                f"{path}: open payload {ref.raw_payload_id}: {_io_error(err)}"
            ) from err
        if ref.path not in self._payloads_counted:
            self._payloads_counted.add(ref.path)
            self._payload_bytes += len(data)
            if self._log_bytes + self._payload_bytes > limits.bundle_bytes:
                raise limits.exceeded(
                    "bundle-bytes", f"{self.path}: the event log and payloads read so far")
        return path, data

    def read_payload(self, ref: RawPayloadRef) -> Any:
        """Parse one payload file as a JSON value (serde_json rules)."""
        path, data = self._read_payload_bytes(ref)
        try:
            return serde_json.loads(data)
        except UnicodeDecodeError as err:
            # serde reads the bytes and places the first bad one; never show the bytes.
            words = syntax_error(data)
            if words is not None:
                raise BundleError(f"{path}: parse payload {ref.raw_payload_id}: {words}") from err
            decode_utf8(data, path=path, what=f"payload {ref.raw_payload_id}")
            raise
        except serde_json.JsonError as err:
            raise BundleError(f"{path}: parse payload {ref.raw_payload_id}: {err}") from err


def _io_error(err: OSError) -> str:
    """An OS error as Rust's ``io::Error`` displays it: ``No such file or directory (os
    error 2)``."""
    if err.errno is None or err.strerror is None:
        return str(err)
    return f"{err.strerror} (os error {err.errno})"


def _decode_line(raw: bytes, *, line: int, path: str | None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TraceError(
            f"read trace event line {line}: stream did not contain valid UTF-8", line=line, path=path,
        ) from err


_SEED_KNOWN = frozenset(EVENT_TYPES)
#: Event type -> its fields the seed lacks (such a line takes the exact path).
_UPSTREAM_ONLY_FIELDS: dict[str, tuple[str, ...]] = {}
for _type, _field, _ in UPSTREAM_EVENT_FIELDS:
    _UPSTREAM_ONLY_FIELDS[_type] = (*_UPSTREAM_ONLY_FIELDS.get(_type, ()), _field)
_UPSTREAM_KNOWN = frozenset((*EVENT_TYPES, *UPSTREAM_EVENT_TYPES))


def parse_event_line(
    text: str | bytes,
    *,
    line: int,
    path: str | None = None,
    dialect: Dialect = Dialect.SEED,
    skipped: list[SkippedEvent] | None = None,
) -> RawTraceEvent | None:
    """Parse one ``trace.jsonl`` line; errors name the line and, if known, the seq.

    Returns ``None`` for an event skipped in lenient mode.
    """
    event = _parse_plain_event_line(text, dialect)
    if event is not None:
        return event
    if isinstance(text, bytes):
        text = _decode_line(text, line=line, path=path)
    return _parse_event_line_exactly(text, line=line, path=path, dialect=dialect, skipped=skipped)


def _parse_plain_event_line(text: str | bytes, dialect: Dialect) -> RawTraceEvent | None:
    """The fast path: the event of a line in canonical compact form, else ``None``.

    Canonical (see ``serde_json.check_typed_document``) rules out repeated keys
    and numbers serde reads differently; an object payload of a type the dialect
    knows, with no field the dialect must drop, and a successful typed
    validation rule out the array form. Everything else takes the exact path.
    """
    document = serde_json.canonical_document(text)
    payload = document.get("payload") if isinstance(document, dict) else None
    if not isinstance(payload, dict):
        return None
    event_type = payload.get("type")
    if not isinstance(event_type, str):
        return None
    if dialect is Dialect.SEED:
        if event_type not in _SEED_KNOWN:
            return None
        upstream_only = _UPSTREAM_ONLY_FIELDS.get(event_type)
        if upstream_only is not None and not payload.keys().isdisjoint(upstream_only):
            return None
    elif event_type not in _UPSTREAM_KNOWN:
        return None
    plan = _lax_plan()
    try:
        if plan is not None and event_type in plan[1] and {
                *map(type, map(document.get, plan[0]))} == _ONLY_INT:
            # The value orjson read, not the text again: a third of the validation's cost.
            return cast(RawTraceEvent, RawTraceEvent.__pydantic_validator__.validate_python(
                document))
        return RawTraceEvent.model_validate_json(text, strict=True)
    except ValidationError:
        return None


_ONLY_INT = {int}

#: Core schema types whose lax Python validation of JSON values (str, int, float,
#: bool, None, list, dict) takes exactly what their strict JSON validation takes:
#: no coercion between those types (an enum takes its value either way).
_LAX_IS_STRICT = frozenset({"model", "model-fields", "model-field", "default", "nullable",
                            "tagged-union", "str", "literal", "enum", "list"})


@functools.cache
def _lax_plan() -> tuple[tuple[str, ...], frozenset[str]] | None:
    """Where validating a parsed line in (lax) Python mode equals
    ``model_validate_json(strict=True)`` on its text: ``(top-level integer fields,
    event types)``, read off ``RawTraceEvent``'s core schema.

    Strict Python mode is no option: a strict enum there wants a member, not its
    value. Lax mode would coerce into an integer (``"5"``, ``5.0``, ``true``) and
    keep free-form (``Any``) values' floats as orjson reads them, so it is used
    for an event type only when its payload has neither, and the top-level
    integers are checked to be integers first. ``None`` if the schema has any
    other shape: every line then validates its text.
    """
    schema = RawTraceEvent.__pydantic_core_schema__
    fields = schema.get("schema", {}).get("fields", {}) if schema.get("type") == "model" else {}
    ints: list[str] = []
    payload: Any = None
    for name, field in fields.items():
        kind = field.get("schema", {}).get("type")
        if name == "payload" and kind == "tagged-union":
            payload = field["schema"]
        elif kind == "int":
            ints.append(name)
        elif not _lax_is_strict(field):
            return None
    if payload is None:
        return None
    types = frozenset(tag for tag, choice in payload.get("choices", {}).items()
                      if isinstance(tag, str) and _lax_is_strict(choice))
    return tuple(ints), types


def _lax_is_strict(schema: Any) -> bool:
    """Whether every core schema node under ``schema`` is in ``_LAX_IS_STRICT``."""
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            kind = node.get("type")  # (not a string in a mapping of field names)
            if isinstance(kind, str) and kind not in _LAX_IS_STRICT:
                return False
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return True


def _parse_event_line_exactly(
    text: str,
    *,
    line: int,
    path: str | None,
    dialect: Dialect,
    skipped: list[SkippedEvent] | None,
    ignored_blanked: bool = False,
    original: str | None = None,
) -> RawTraceEvent | None:
    """serde's rules in full: array form, duplicates, numbers, and the error wording.
    ``original``: the line as written, where ``text`` is a rewriting of it."""
    original = text if original is None else original
    try:
        try:
            document = serde_json.check_typed_document(text)
        except serde_json.DuplicateKey:
            # A struct refuses a repeated key; a free-form value keeps the last one and
            # an unknown field is skipped whatever it holds. Where the types say which:
            modelled, words = typed_verdict(text, RawTraceEvent, _rust_event_types(dialect))
            if not modelled or words is not None:
                raise
            document = serde_json.exact_loads(text)
    except serde_json.JsonError as refused:
        again = serde_json.reread_typed(text, refused, _ENVELOPE_FIELDS, source="slice",
                                        unknown_blanked=ignored_blanked)
        if isinstance(again, serde_json.Reread):
            return _parse_event_line_exactly(
                again.text, line=line, path=path, dialect=dialect, skipped=skipped,
                ignored_blanked=True, original=original if again.numbers_rewritten else None)
        err = again
        # Placed where serde meets it, unless a type error comes first in the line
        # (serde reads as it goes: a value of the wrong kind is refused unentered).
        words = first_error(text, str(err), RawTraceEvent, _rust_event_types(dialect),
                            duplicate=isinstance(err, serde_json.DuplicateKey))
        raise TraceError(
            f"parse trace event line {line}: {words}",
            line=line, seq=_best_effort_seq(text), path=path,
        ) from err
    try:
        document, expanded = expand_sequences(
            document, RawTraceEvent, SEED_OMITTED if dialect is Dialect.SEED else None
        )
    except serde_json.JsonError as err:
        words = typed_error(text, RawTraceEvent, _rust_event_types(dialect)) or str(err)
        raise TraceError(
            f"parse trace event line {line}: {words}",
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
        serde_words = typed_error(original, RawTraceEvent, _rust_event_types(dialect))
        if serde_words is None:
            serde_words = (f"unknown event type {quote_name(event_type)}, expected one of "
                           f"{', '.join(known)}")
        raise TraceError(
            f"parse trace event line {line}: {serde_words}; an event type the "
            f"{dialect.value} dialect does not know (--lenient skips such events)",
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
        variant = _unknown_inner_variant(err)
        if variant is not None and skipped is not None and isinstance(event_type, str):
            assert isinstance(payload, dict)
            owned = STARTED_ID_FIELD.get(event_type)
            value = payload.get(owned) if owned is not None else None
            ids = ((owned, value),) if owned is not None and isinstance(value, str) else ()
            skipped.append(SkippedEvent(line, _best_effort_seq(text), event_type, variant, ids))
            return None
        # serde's words and position, read off the line as written; else pydantic's.
        serde_words = typed_error(original, RawTraceEvent, _rust_event_types(dialect))
        raise TraceError(
            f"parse trace event line {line}: {serde_words or _describe(err, text)}",
            line=line, seq=_best_effort_seq(text), path=path,
        ) from err


def _unknown_inner_variant(err: ValidationError) -> tuple[str, str] | None:
    """``(field, tag)`` of the first error when all that is wrong with an event is
    tagged values inside its payload whose tags name no variant (forks add some:
    upstream-delta-2.md's "tolerate, do not implement"); ``None`` for any other error.

    Two shapes carry a tag: an internally tagged enum (a tool call's ``requester``,
    ``kind``, ``summary``), and an adjacently tagged unit enum, modelled as a struct
    whose ``type`` is an enum (a payload reference's ``kind``).
    """
    found: list[tuple[str, str]] = []
    for error in err.errors(include_url=False):
        loc = error["loc"]
        # ("payload", event type, field...): the event type itself is known here.
        if len(loc) < 3 or loc[0] != "payload":
            return None
        if error["type"] == "union_tag_invalid":
            tag, where = (error.get("ctx") or {}).get("tag"), loc[2:]
        elif error["type"] == "enum" and loc[-1] == "type" and len(loc) > 3:
            tag, where = error.get("input"), loc[2:-1]
        else:
            return None
        if not isinstance(tag, str):
            return None
        found.append((".".join(str(part) for part in where), tag))
    return found[0] if found else None


#: The envelope's fields as serde names them; it skips any other key.
_ENVELOPE_FIELDS = frozenset(
    field.alias or name for name, field in RawTraceEvent.model_fields.items())


@functools.cache
def _rust_event_types(dialect: Dialect) -> RustTypes:
    """The Rust names of the event model's enums, and what the dialect's structs lack."""
    variants = EVENT_TYPES if dialect is Dialect.SEED else (*EVENT_TYPES, *UPSTREAM_EVENT_TYPES)
    return RustTypes(
        enum_names={union_tags(alias): name for name, alias in EVENT_ENUMS.items()},
        variants={"RawTraceEventPayload": variants},
        omitted=dict(SEED_OMITTED) if dialect is Dialect.SEED else {},
        adjacent={RawPayloadKind: "RawPayloadKind"},
    )


def _best_effort_seq(text: str) -> int | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def _describe(err: ValidationError, text: str) -> str:
    first = err.errors()[0]
    # Keys of free-form maps are trace content: name them only if they look like names.
    loc = [safe_name(str(part)) for part in first["loc"]]
    if first["type"] == "json_invalid":
        return f"invalid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
    if first["type"] == "union_tag_invalid":
        tag = first.get("input", {}).get("type") if isinstance(first.get("input"), dict) else None
        if loc == ["payload"]:
            return f"unknown event type {quote_name(tag)} (expected one of {', '.join(EVENT_TYPES)})"
        return f"{'.'.join(loc)}: unknown variant {quote_name(tag)}"
    if first["type"] == "union_tag_not_found":
        return f"{'.'.join(loc)}: missing field `type`"
    if first["type"] == "missing":
        return f"missing field `{loc[-1]}`" + (f" in {'.'.join(loc[:-1])}" if loc[:-1] else "")
    where = ".".join(loc)
    return f"{where}: {first['msg']}" if where else first["msg"]
