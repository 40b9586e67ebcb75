"""The reduced ``RolloutTrace`` and its ``state.json`` encoding."""

from __future__ import annotations

import json
import operator
from pathlib import Path
from typing import Any

import orjson
from pydantic import Field, PrivateAttr, ValidationError
from pydantic_core import PydanticSerializationError

from tracegraph._gc import collector_paused
from tracegraph.errors import StateFileError
from tracegraph.model._base import TraceModel
from tracegraph.model.conversation import ConversationItem, InferenceCall
from tracegraph.model.dialect import UPSTREAM_ONLY_FIELDS, Dialect
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import (
    CodeCell,
    Compaction,
    CompactionRequest,
    InteractionEdge,
    TerminalOperation,
    TerminalSession,
    ToolCall,
)
from tracegraph.model.session import AgentThread, CodexTurn, RolloutStatus

__all__ = [
    "MAP_FIELDS",
    "REDUCED_TRACE_SCHEMA_VERSION",
    "RolloutTrace",
    "dump_state",
    "load_state",
    "state_dialect",
]


REDUCED_TRACE_SCHEMA_VERSION = 1

#: Map-valued fields of ``RolloutTrace``, in declaration order. They are Rust
#: ``BTreeMap``s, so ``state.json`` lists their keys in byte order.
MAP_FIELDS: tuple[str, ...] = (
    "threads",
    "codex_turns",
    "conversation_items",
    "inference_calls",
    "code_cells",
    "tool_calls",
    "terminal_sessions",
    "terminal_operations",
    "compactions",
    "compaction_requests",
    "interaction_edges",
    "raw_payloads",
)


class RolloutTrace(TraceModel):
    """Canonical reduced graph for one Codex rollout (``state.json``)."""

    schema_version: int = REDUCED_TRACE_SCHEMA_VERSION
    trace_id: str
    rollout_id: str
    started_at_unix_ms: int
    #: ``None`` while running or for a partial trace.
    ended_at_unix_ms: int | None = None
    status: RolloutStatus = RolloutStatus.RUNNING
    root_thread_id: str
    threads: dict[str, AgentThread] = Field(default_factory=dict)
    codex_turns: dict[str, CodexTurn] = Field(default_factory=dict)
    conversation_items: dict[str, ConversationItem] = Field(default_factory=dict)
    inference_calls: dict[str, InferenceCall] = Field(default_factory=dict)
    code_cells: dict[str, CodeCell] = Field(default_factory=dict)
    tool_calls: dict[str, ToolCall] = Field(default_factory=dict)
    terminal_sessions: dict[str, TerminalSession] = Field(default_factory=dict)
    terminal_operations: dict[str, TerminalOperation] = Field(default_factory=dict)
    compactions: dict[str, Compaction] = Field(default_factory=dict)
    compaction_requests: dict[str, CompactionRequest] = Field(default_factory=dict)
    interaction_edges: dict[str, InteractionEdge] = Field(default_factory=dict)
    raw_payloads: dict[str, RawPayloadRef] = Field(default_factory=dict)
    #: Format era this trace was reduced under; decides the state.json shape.
    _dialect: Dialect = PrivateAttr(default=Dialect.SEED)
    #: The bundle was caught mid-write: its unfinished end was left out.
    _partial: bool = PrivateAttr(default=False)

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def with_dialect(self, dialect: Dialect | str) -> RolloutTrace:
        """Set the dialect (in place) and return the trace, for chaining."""
        self._dialect = Dialect(dialect)
        return self

    @property
    def partial(self) -> bool:
        """Whether the replay left out an unfinished end of the bundle (not in state.json)."""
        return self._partial

    def with_partial(self, partial: bool) -> RolloutTrace:
        """Mark the trace partial (in place) and return it, for chaining."""
        self._partial = partial
        return self

    #: What a ``--lenient`` replay did not understand (``KIND TYPE xCOUNT`` entries);
    #: not part of state.json.
    _unknown_types: tuple[str, ...] = PrivateAttr(default=())

    @property
    def unknown_types(self) -> tuple[str, ...]:
        return self._unknown_types

    def with_unknown_types(self, entries: tuple[str, ...]) -> RolloutTrace:
        """Record what a lenient replay skipped or kept opaque (in place), for chaining."""
        self._unknown_types = tuple(entries)
        return self

    def to_json_value(self) -> dict[str, Any]:
        """The serde-shaped JSON value of this trace's dialect, maps in key byte order."""
        value = self.model_dump(mode="json")
        for name in MAP_FIELDS:
            # Python compares str by code point, which is UTF-8 byte order.
            value[name] = dict(sorted(value[name].items()))
        for map_name, field_name in UPSTREAM_ONLY_FIELDS.items():
            for entry in value[map_name].values():
                if self._dialect is Dialect.SEED:
                    del entry[field_name]
                elif field_name == "agent_message" and entry[field_name] is None:
                    # serde(skip_serializing_if = "Option::is_none") upstream.
                    del entry[field_name]
        if self._dialect is Dialect.SEED:
            for call in value["inference_calls"].values():
                if call["usage"] is not None:
                    del call["usage"]["cache_write_input_tokens"]
        return value

    def to_state_json(self) -> str:
        """Pretty JSON exactly as ``serde_json::to_vec_pretty`` writes it."""
        data = self._fast_state_bytes()
        if data is None:
            return json.dumps(self.to_json_value(), indent=2, ensure_ascii=False)
        return data.decode("utf-8")

    def to_state_bytes(self) -> bytes:
        """:meth:`to_state_json` encoded as UTF-8, the bytes written to ``state.json``."""
        data = self._fast_state_bytes()
        if data is None:
            return self.to_state_json().encode("utf-8")
        return data

    def _fast_state_bytes(self) -> bytes | None:
        """The state the fast way, or ``None`` where only the slow way writes it."""
        try:
            return self._orjson_state_bytes()
        except orjson.JSONEncodeError:
            # Integers past 64 bits or lone surrogates (orjson refuses both).
            return self._pydantic_state_bytes()

    def _orjson_state_bytes(self) -> bytes:
        """The state through orjson, straight from the models' field dicts.

        orjson's two-space pretty printer writes what serde_json's does (the
        same separators, empties and string escapes; tests/test_state_writer.py
        checks it). A model's ``__dict__`` holds exactly its fields in
        declaration order (pydantic keeps private attributes and the fields-set
        record elsewhere), so only the dialect's fields need leaving out: of the
        four model types that have them, the entries are rebuilt without them.
        """
        value = dict(self.__dict__)
        for name in MAP_FIELDS:
            entries = value[name]
            # Python compares str by code point, which is UTF-8 byte order.
            value[name] = {key: entries[key] for key in sorted(entries)}
        if self._dialect is Dialect.SEED:
            for map_name, field_name in UPSTREAM_ONLY_FIELDS.items():
                value[map_name] = _without(value[map_name], field_name)
            for fields in value["inference_calls"].values():
                usage = fields["usage"]
                if usage is not None:
                    # As in to_json_value: the seed's TokenUsage has no cache-write count.
                    usage = fields["usage"] = usage.__dict__.copy()
                    del usage["cache_write_input_tokens"]
        else:
            # serde(skip_serializing_if = "Option::is_none") upstream.
            items = value["conversation_items"]
            value["conversation_items"] = _without(
                items, "agent_message", [key for key, item in items.items()
                                         if item.agent_message is None])
        return orjson.dumps(value, default=_FIELDS, option=orjson.OPT_INDENT_2)

    def _pydantic_state_bytes(self) -> bytes | None:
        """The state through pydantic-core, or ``None`` where only the slow way writes it.

        pydantic-core writes JSON with serde_json itself (two-space pretty
        printer, the same string escapes), so only the map order and the
        dialect's fields need arranging: maps are sorted on a shallow copy.
        """
        view = self.model_copy(
            update={name: dict(sorted(getattr(self, name).items())) for name in MAP_FIELDS}
        )
        exclude: dict[str, Any] = {}
        for map_name, field_name in UPSTREAM_ONLY_FIELDS.items():
            if self._dialect is Dialect.SEED:
                exclude[map_name] = {"__all__": {field_name: True}}
            elif field_name == "agent_message":
                # serde(skip_serializing_if = "Option::is_none") upstream.
                exclude[map_name] = {
                    key: {field_name}
                    for key, entry in getattr(view, map_name).items()
                    if getattr(entry, field_name) is None
                }
        if self._dialect is Dialect.SEED:
            # As in to_json_value: the seed's TokenUsage has no cache-write count.
            exclude["inference_calls"]["__all__"]["usage"] = {"cache_write_input_tokens": True}
        try:
            return view.__pydantic_serializer__.to_json(view, indent=2, exclude=exclude)
        except (PydanticSerializationError, UnicodeEncodeError):
            # Values serde_json would still write (e.g. lone surrogates): the slow way.
            return None


def _without(
    entries: dict[str, Any], name: str, keys: list[str] | None = None
) -> dict[str, Any]:
    """``entries`` with field ``name`` left out of the entries at ``keys`` (default all),
    which become field dicts."""
    out = dict(entries)
    for key in out if keys is None else keys:
        fields = out[key] = out[key].__dict__.copy()
        del fields[name]
    return out


#: orjson's ``default``: a reduced-model object is its field dict. (Nothing else in a
#: trace has a ``__dict__``; what orjson cannot write makes it raise, and the slow way
#: writes the state.)
_FIELDS = operator.attrgetter("__dict__")


def dump_state(trace: RolloutTrace, path: str | Path) -> Path:
    """Write ``state.json`` atomically: a failed write leaves no partial file."""
    from tracegraph._atomic import atomic_write_bytes

    # The writer copies tens of thousands of field dicts, none in a cycle.
    with collector_paused():
        data = trace.to_state_bytes()
    return atomic_write_bytes(Path(path), data)


def load_state(path: str | Path) -> RolloutTrace:
    """Load a ``state.json`` written by Codex or by :func:`dump_state`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise StateFileError(f"{path}: cannot read state file: {err.strerror or err}") from err
    # Parsing and validation build the whole trace twice over, with no cycle in it.
    with collector_paused():
        return _state_from_bytes(path, data)


def _state_from_bytes(path: Path, data: bytes) -> RolloutTrace:
    try:
        # orjson reads what json.loads reads, to the same value, or refuses it (NaN,
        # integers past 64 bits, lone surrogates...); json.loads then decides and
        # words the error.
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = _exact_state_value(path, data)
    try:
        trace = RolloutTrace.model_validate(value)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StateFileError(f"{path}: not a rollout state: {where}: {first['msg']}") from err
    return trace.with_dialect(state_dialect(value))


def _exact_state_value(path: Path, data: bytes) -> Any:
    """``json.loads`` of the file's text (newlines translated as ``read_text`` does)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise StateFileError(f"{path}: line {line}: invalid JSON: not valid UTF-8") from err
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise StateFileError(f"{path}: line {err.lineno}: invalid JSON: {err.msg}") from err
    except RecursionError as err:
        raise StateFileError(f"{path}: invalid JSON: nested too deeply") from err


def state_dialect(value: dict[str, Any]) -> Dialect:
    """Upstream state files carry fields the seed never writes."""
    for map_name, field_name in UPSTREAM_ONLY_FIELDS.items():
        entries = value.get(map_name)
        if isinstance(entries, dict) and any(
            isinstance(entry, dict) and field_name in entry for entry in entries.values()
        ):
            return Dialect.UPSTREAM
    return Dialect.SEED
