"""The fast path validates an event line's parsed value, as strictly as its text.

For most event types ``_parse_plain_event_line`` validates the value orjson
read (in pydantic's lax Python mode, which on those types coerces nothing but
the integers it checks first), not the text again. Here scalars of real event
lines are swapped for values of other JSON types and spellings; whatever the
fast path accepts, the exact path (serde's rules on the text) must accept as the
same event, and whatever the exact path refuses, the fast path must leave to it.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.generator import generate_bundle
from tracegraph.bundle import reader
from tracegraph.bundle.events import RawTraceEvent
from tracegraph.bundle.reader import SkippedEvent
from tracegraph.errors import TraceError
from tracegraph.model.dialect import Dialect

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"

#: Values of every JSON type, in spellings a lax validator would take for another.
_SWAPS: list[Any] = [
    "5", 5, 5.0, 0.5, True, False, None, -1, 0, 2**63, 2**64 - 1, "", "x", [], {}, ["a"],
    {"type": "model"}, "completed", "COMPLETED", "Completed", " completed", "failed",
    "model", "code_cell", "inference_request", "INFERENCE_REQUEST", "true", "1",
]


def _scalar_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _scalar_paths(item, (*path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value)
                for p in _scalar_paths(item, (*path, index))]
    return [path]


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _exact(text: str, dialect: Dialect) -> RawTraceEvent | str | None:
    skipped: list[SkippedEvent] = []
    try:
        return reader._parse_event_line_exactly(text, line=1, path=None, dialect=dialect,
                                                skipped=skipped)
    except TraceError as err:
        return str(err)


def _check(raw: bytes, dialect: Dialect) -> bool:
    """Fast and exact path agree on ``raw``; whether the fast path took it."""
    fast = reader._parse_plain_event_line(raw, dialect)
    exact = _exact(raw.decode("utf-8"), dialect)
    if fast is None:
        return False
    assert isinstance(exact, RawTraceEvent), (raw, exact)
    # repr tells an enum member from its value; the dump compares the content.
    assert repr(fast) == repr(exact), raw
    assert fast.model_dump() == exact.model_dump(), raw
    assert fast.model_fields_set == exact.model_fields_set
    assert fast.payload.model_fields_set == exact.payload.model_fields_set
    return True


def _event_lines(bundle: Path) -> list[bytes]:
    return [raw for raw in (bundle / "trace.jsonl").read_bytes().splitlines()
            if raw.startswith(b"{")]


@pytest.mark.parametrize("seed", range(6))
def test_swapped_scalars_are_validated_as_the_text_would_be(seed: int,
                                                            tmp_path: Path) -> None:
    rng = random.Random(seed)
    generate_bundle(tmp_path, seed * 11)
    lines = _event_lines(tmp_path)
    taken = refused = 0
    for raw in rng.sample(lines, min(25, len(lines))):
        value = orjson.loads(raw)
        paths = _scalar_paths(value)
        for path in rng.sample(paths, min(6, len(paths))):
            for new in rng.sample(_SWAPS, 8):
                try:
                    mutated = orjson.dumps(_replaced(value, path, new))
                except orjson.JSONEncodeError:
                    continue
                for dialect in Dialect:
                    if _check(mutated, dialect):
                        taken += 1
                    else:
                        refused += 1
    # Both outcomes were exercised.
    assert taken and refused


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.iterdir()))
def test_example_lines_take_the_fast_path_as_the_exact_events(name: str) -> None:
    lines = _event_lines(EXAMPLES / name)
    dialect = Dialect.UPSTREAM if name.startswith("upstream") else Dialect.SEED
    assert all(_check(raw, dialect) for raw in lines)


def test_enum_fields_take_only_their_values() -> None:
    base = {"schema_version": 1, "seq": 3, "wall_time_unix_ms": 5, "rollout_id": "r",
            "thread_id": "t", "codex_turn_id": None,
            "payload": {"type": "thread_ended", "thread_id": "t", "status": "completed"}}
    assert _check(orjson.dumps(base), Dialect.SEED)
    for status in ("COMPLETED", "Completed", "completed ", 1, True, None, ["completed"]):
        base["payload"]["status"] = status  # type: ignore[index]
        raw = orjson.dumps(base)
        assert reader._parse_plain_event_line(raw, Dialect.SEED) is None
        assert isinstance(_exact(raw.decode(), Dialect.SEED), str)


def test_the_lax_plan_covers_the_common_events_and_no_integer_or_free_form_payload() -> None:
    ints, types = reader._lax_plan() or ((), frozenset())
    assert ints == ("schema_version", "seq", "wall_time_unix_ms")
    # wait_agent's timeout_ms is an integer, other's metadata free-form: text validation.
    assert "tool_call_started" not in types and "other" not in types
    assert {"inference_started", "inference_completed", "tool_call_ended",
            "thread_started", "codex_turn_ended"} <= types


@pytest.mark.parametrize("value", ["5", 5.0, True, None, "0x5", [5]])
@pytest.mark.parametrize("name", ["schema_version", "seq", "wall_time_unix_ms"])
def test_top_level_integers_are_never_coerced(name: str, value: Any) -> None:
    base: dict[str, Any] = {
        "schema_version": 1, "seq": 3, "wall_time_unix_ms": 5, "rollout_id": "r",
        "thread_id": "t", "codex_turn_id": None,
        "payload": {"type": "thread_ended", "thread_id": "t", "status": "completed"}}
    base[name] = value
    raw = orjson.dumps(base)
    assert reader._parse_plain_event_line(raw, Dialect.SEED) is None
    assert isinstance(_exact(raw.decode(), Dialect.SEED), str)


def test_other_events_keep_the_json_validators_numbers() -> None:
    """``other`` metadata is free-form: its floats are read from the text as before."""
    line = ('{"schema_version":1,"seq":1,"wall_time_unix_ms":5,"rollout_id":"r",'
            '"thread_id":null,"codex_turn_id":null,"payload":{"type":"other","kind":"k",'
            '"summary":"s","payloads":[],"metadata":{"f":0.23607809543282265,"g":[1e+16]}}}')
    fast = reader._parse_plain_event_line(line.encode(), Dialect.SEED)
    text = RawTraceEvent.model_validate_json(line, strict=True)
    assert fast is not None
    metadata = fast.payload.metadata  # type: ignore[union-attr]
    expected = text.payload.metadata  # type: ignore[union-attr]
    assert metadata == expected
    assert struct.pack("<d", metadata["f"]) == struct.pack("<d", expected["f"])
