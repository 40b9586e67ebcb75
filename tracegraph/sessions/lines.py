"""Reading one Codex session rollout file (``rollout-*.jsonl``, ``.jsonl.zst``) into records.

Each line is ``{"timestamp", "ordinal"?, "type", "payload", ...}``. The format
adds line types often, so a type this module does not know is skipped and
counted, never an error. A last line without its newline that stops mid-record
(a JSON text cut off) is a session still being written: it is left out and the
file is marked torn. A bad line anywhere else, that last one included, is an
error naming the file and line; the message never echoes the line itself (it
holds users' code and secrets).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import zstandard

from tracegraph.bundle.serde_syntax import is_cut_short
from tracegraph.errors import TracegraphError

__all__ = [
    "LINE_TYPES",
    "ZSTD_MAGIC",
    "Record",
    "SessionFile",
    "SessionFileError",
    "open_session_bytes",
    "parse_timestamp_ms",
    "read_session_file",
]

#: First four bytes of a zstandard frame.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

#: Line types of the newest wire enum (``RolloutItemWire``); others are skipped.
LINE_TYPES = frozenset({
    "session_meta", "response_item", "inter_agent_communication",
    "inter_agent_communication_metadata", "compacted", "turn_context", "token_usage_record",
    "world_state", "retained_context", "security_risk_score", "event_msg", "realtime_item",
})


class SessionFileError(TracegraphError):
    """A session rollout file (or directory of them) cannot be read."""


@dataclass(frozen=True, slots=True)
class Record:
    """One line of a session file."""

    #: 1-based line number in the (decompressed) file.
    line: int
    type: str
    payload: dict[str, Any]
    timestamp_ms: int | None
    ordinal: int | None
    #: The line's sibling ``metadata`` (``response_item`` only, newest format).
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class SessionFile:
    path: Path
    records: list[Record] = field(default_factory=list)
    #: Skipped line types, item types and event types, as ``"line:TYPE"`` etc.
    skipped: Counter[str] = field(default_factory=Counter)
    #: The last line was cut off (the session was still being written).
    torn: bool = False
    compressed: bool = False

    @property
    def meta(self) -> dict[str, Any]:
        """The file's own ``session_meta`` payload (its first line)."""
        return self.records[0].payload


def parse_timestamp_ms(value: Any) -> int | None:
    """UTC RFC 3339 (``2026-09-17T08:22:53.411Z``) as Unix milliseconds; ``None`` if not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)


def open_session_bytes(path: Path) -> tuple[IO[bytes], bool]:
    """The file's bytes, decompressed when it is a zstandard stream (by content, not
    name), and whether it was."""
    handle = path.open("rb")
    head = handle.read(4)
    handle.seek(0)
    if head != ZSTD_MAGIC:
        return handle, False
    reader = zstandard.ZstdDecompressor().stream_reader(handle, closefd=True)
    return io.BufferedReader(reader), True


def _raw_lines(path: Path, stream: IO[bytes]) -> Iterator[bytes]:
    try:
        yield from stream
    except zstandard.ZstdError as err:
        raise SessionFileError(f"{path}: bad zstandard data: {err}") from err


def read_session_file(path: str | Path) -> SessionFile:
    """Parse ``path``; raises :class:`SessionFileError` when it is not a session file."""
    path = Path(path)
    try:
        stream, compressed = open_session_bytes(path)
    except OSError as err:
        raise SessionFileError(f"{path}: cannot read session file: {err.strerror or err}") from err
    out = SessionFile(path, compressed=compressed)
    with stream:
        pending: tuple[int, bytes] | None = None
        for number, raw in enumerate(_raw_lines(path, stream), start=1):
            if pending is not None:
                _take(out, *pending, last=False)
            pending = (number, raw)
        if pending is not None:
            _take(out, *pending, last=True)
    if not out.records:
        raise SessionFileError(f"{path}: not a Codex session rollout file (no session_meta line)")
    return out


def _take(out: SessionFile, number: int, raw: bytes, *, last: bool) -> None:
    text = raw.strip()
    if not text:
        return
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        if last and not raw.endswith(b"\n") and is_cut_short(text):
            out.torn = True
            return
        reason = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8"
        raise SessionFileError(f"{out.path}: line {number}: invalid JSON: {reason}") from None
    if not out.records:
        _check_first_line(out.path, number, value)
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise SessionFileError(f"{out.path}: line {number}: not a session rollout line "
                               "(no `type`)")
    line_type = value["type"]
    payload = value.get("payload")
    if line_type not in LINE_TYPES or not isinstance(payload, dict):
        out.skipped[f"line:{line_type}"] += 1
        return
    ordinal = value.get("ordinal")
    metadata = value.get("metadata")
    out.records.append(Record(
        line=number, type=line_type, payload=payload,
        timestamp_ms=parse_timestamp_ms(value.get("timestamp")),
        ordinal=ordinal if isinstance(ordinal, int) and not isinstance(ordinal, bool) else None,
        metadata=metadata if isinstance(metadata, dict) else None,
    ))


def _check_first_line(path: Path, number: int, value: Any) -> None:
    """The first line of a session file is a ``session_meta`` envelope."""
    if isinstance(value, dict) and value.get("type") == "session_meta" and isinstance(
        value.get("payload"), dict
    ):
        return
    if isinstance(value, dict) and {"id", "instructions"} <= value.keys() and "type" not in value:
        raise SessionFileError(
            f"{path}: line {number}: a session file of the bare format (before Sep 2025, no "
            "line envelope) is not supported"
        )
    raise SessionFileError(f"{path}: line {number}: not a Codex session rollout file "
                           "(the first line is not a session_meta record)")
