"""The fast ``state.json`` writer gives exactly the bytes of the exact ones.

``RolloutTrace.to_state_bytes`` writes through orjson from the models' field
dicts; ``_pydantic_state_bytes`` (serde_json inside pydantic-core) and
``json.dumps`` of ``to_json_value`` are the slower exact ways. Every case here
compares all three, and where a bundle is involved, the reference reducer's
bytes too (when its binary is present).
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from pydantic import BaseModel

from tracegraph.authoring import run_reference
from tracegraph.errors import StateFileError
from tracegraph.model import RolloutTrace, load_state
from tracegraph.model.dialect import Dialect
from tracegraph.model.session import AgentThread, RootOrigin, running_window
from tracegraph.reducer import replay_bundle

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLES = sorted(path for path in EXAMPLES.iterdir() if (path / "manifest.json").is_file())

#: Every ASCII control character, DEL, the characters serde escapes or might, and
#: non-ASCII up to the last code point (serde writes all of these raw but the controls).
ODD = ("".join(chr(code) for code in range(0x20)) + "\x7f/\\\"<>&' é ü 中文 \u2028\u2029"
       "\ufeff \U0001f600 \U0010ffff")
#: Turn ids (map keys) whose byte order differs from their order of appearance.
TURN_IDS = ["z", "é", "A", "\U0001f600", "a\x01", "中", "~", "\u00ff", "tu", ""]


def slow_bytes(trace: RolloutTrace) -> bytes:
    return json.dumps(trace.to_json_value(), indent=2, ensure_ascii=False).encode("utf-8")


def assert_writers_agree(trace: RolloutTrace) -> bytes:
    fast = trace.to_state_bytes()
    assert fast == trace._orjson_state_bytes()
    assert fast == trace._pydantic_state_bytes()
    assert fast == slow_bytes(trace)
    return fast


def minimal_trace(**fields: object) -> RolloutTrace:
    values: dict[str, object] = {"trace_id": "t", "rollout_id": "r", "started_at_unix_ms": 0,
                                 "root_thread_id": "th"}
    values.update(fields)
    return RolloutTrace.model_validate(values)


@pytest.mark.parametrize("dialect", list(Dialect))
@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda path: path.name)
def test_example_bundles_in_both_dialects(bundle: Path, dialect: Dialect) -> None:
    trace = replay_bundle(bundle)
    if trace.dialect is dialect:
        assert trace.to_state_bytes() == (bundle / "state.json").read_bytes()
    assert_writers_agree(trace.with_dialect(dialect))


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda path: path.name)
def test_every_model_holds_exactly_its_fields_in_order(bundle: Path) -> None:
    """What the fast writer relies on: a model's ``__dict__`` is its fields, in order."""
    stack: list[object] = [replay_bundle(bundle)]
    models = 0
    while stack:
        current = stack.pop()
        if isinstance(current, BaseModel):
            models += 1
            assert list(current.__dict__) == list(type(current).model_fields), current
            stack.extend(current.__dict__.values())
        elif isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    assert models > 100


def test_the_examples_hold_every_dialect_field_both_ways() -> None:
    """The test above reaches each field a dialect leaves out, set and unset."""
    texts = [(bundle / "state.json").read_text(encoding="utf-8") for bundle in BUNDLES]
    for pattern in ('"agent_message": {', '"mcp_call_id": "', '"mcp_call_id": null',
                    '"response_id": "', '"cache_write_input_tokens": 5', '"usage": null'):
        assert any(pattern in text for text in texts), pattern
    items = json.loads(texts[[b.name for b in BUNDLES].index("upstream-agents")])[
        "conversation_items"].values()
    assert {"agent_message" in item for item in items} == {True, False}


def test_writing_leaves_the_trace_as_it_was() -> None:
    trace = replay_bundle(EXAMPLES / "upstream-agents")
    before = trace.model_dump()
    for dialect in (Dialect.SEED, Dialect.UPSTREAM, Dialect.SEED):
        first = trace.with_dialect(dialect).to_state_bytes()
        assert trace.to_state_bytes() == first
        assert trace.model_dump() == before


def write_odd_bundle(root: Path) -> None:
    """A seed bundle whose strings hold ``ODD`` and whose turn ids sort by bytes."""
    (root / "payloads").mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps(
        {"schema_version": 1, "trace_id": "t" + ODD, "rollout_id": "r", "root_thread_id": "th",
         "started_at_unix_ms": 5, "raw_event_log": "trace.jsonl", "payloads_dir": "payloads"}))

    def event(seq: int, payload: dict[str, object]) -> str:
        return json.dumps({"schema_version": 1, "seq": seq, "wall_time_unix_ms": 5 + seq,
                           "rollout_id": "r", "thread_id": None, "codex_turn_id": None,
                           "payload": payload}, ensure_ascii=False)

    lines = [event(1, {"type": "thread_started", "thread_id": "th", "agent_path": "/root/" + ODD,
                       "metadata_payload": None})]
    lines += [event(2 + number, {"type": "codex_turn_started", "codex_turn_id": turn,
                                 "thread_id": "th"})
              for number, turn in enumerate(TURN_IDS)]
    lines.append(event(20, {
        "type": "inference_started", "inference_call_id": "i", "thread_id": "th",
        "codex_turn_id": "tu", "model": "m" + ODD, "provider_name": "p",
        "request_payload": {"raw_payload_id": "raw_payload:1",
                            "kind": {"type": "inference_request"}, "path": "payloads/1.json"}}))
    (root / "trace.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "payloads" / "1.json").write_text(json.dumps({"input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ODD}]},
    ]}), encoding="utf-8")


def test_odd_strings_and_key_order_match_the_reference(tmp_path: Path) -> None:
    write_odd_bundle(tmp_path / "bundle")
    trace = replay_bundle(tmp_path / "bundle", dialect="seed")
    data = assert_writers_agree(trace)
    value = json.loads(data)
    assert value["threads"]["th"]["agent_path"] == "/root/" + ODD
    assert list(value["codex_turns"]) == sorted(TURN_IDS, key=lambda turn: turn.encode())
    # serde escapes only the controls, quote and backslash; the rest is raw UTF-8.
    assert '"/root/\\u0000\\u0001' in data.decode("utf-8")
    assert "\\b\\t\\n\\u000b\\f\\r\\u000e" in data.decode("utf-8")
    assert "\x7f/\\\\\\\"<>&' é ü 中文 \u2028\u2029\ufeff \U0001f600 \U0010ffff".encode() in data
    assert b'"response_item_ids": [],\n' in data
    assert_writers_agree(trace.with_dialect(Dialect.UPSTREAM))
    result = run_reference(tmp_path / "bundle")
    if result is not None:
        assert result.ok and result.state is not None, result.stderr
        assert trace.with_dialect(Dialect.SEED).to_state_bytes() == result.state.encode("utf-8")


def test_empty_maps_and_lists() -> None:
    trace = minimal_trace()
    data = assert_writers_agree(trace)
    assert b'  "threads": {},\n' in data and data.endswith(b'  "raw_payloads": {}\n}')
    thread = AgentThread(thread_id="th", agent_path="/root", origin=RootOrigin(),
                         execution=running_window(0, 1))
    data = assert_writers_agree(minimal_trace(threads={"th": thread}))
    assert b'"conversation_item_ids": []\n' in data


@pytest.mark.parametrize("number", [0, 2**64 - 1, -(2**63), 2**53 + 1])
def test_integers_within_64_bits_take_the_fast_way(number: int) -> None:
    trace = minimal_trace(started_at_unix_ms=number, ended_at_unix_ms=number)
    assert trace._orjson_state_bytes() == slow_bytes(trace)
    assert_writers_agree(trace)


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30])
def test_integers_past_64_bits_take_an_exact_way(number: int) -> None:
    trace = minimal_trace(started_at_unix_ms=number)
    with pytest.raises(orjson.JSONEncodeError):
        trace._orjson_state_bytes()
    assert trace.to_state_bytes() == slow_bytes(trace)
    assert f'"started_at_unix_ms": {number},'.encode() in trace.to_state_bytes()


def test_a_lone_surrogate_takes_the_slow_way() -> None:
    # serde_json never holds one (its parser refuses them); the slow way still writes text.
    trace = minimal_trace(trace_id="a\ud800b")
    with pytest.raises(orjson.JSONEncodeError):
        trace._orjson_state_bytes()
    assert trace.to_state_json() == json.dumps(trace.to_json_value(), indent=2,
                                               ensure_ascii=False)


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda path: path.name)
def test_load_state_reads_back_what_was_written(bundle: Path) -> None:
    loaded = load_state(bundle / "state.json")
    replayed = replay_bundle(bundle)
    assert loaded == replayed and loaded.dialect is replayed.dialect


def test_load_state_takes_odd_strings_and_crlf(tmp_path: Path) -> None:
    write_odd_bundle(tmp_path / "bundle")
    trace = replay_bundle(tmp_path / "bundle", dialect="seed")
    path = tmp_path / "state.json"
    path.write_bytes(trace.to_state_bytes().replace(b"\n", b"\r\n"))
    assert load_state(path) == trace


@pytest.mark.parametrize(("content", "message"), [
    (b'{\n  "trace_id": "\xff"\n}', "line 2: invalid JSON: not valid UTF-8"),
    (b"\xef\xbb\xbf{}", "line 1: invalid JSON: Unexpected UTF-8 BOM"),
    (b'{\r\n"a": 1,\r\n', "line 3: invalid JSON: Expecting property name"),
    (b'{\r"a": 1,\r', "line 3: invalid JSON: Expecting property name"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON: nested too deeply"),
    (b'{"trace_id": NaN}', "not a rollout state: trace_id: Input should be a valid string"),
    (b'{"trace_id": "\\ud800"}', "not a rollout state: rollout_id: Field required"),
    # orjson refuses the number; json.loads reads it and validation refuses it.
    (b'{"trace_id": "t", "rollout_id": "r", "root_thread_id": "th", '
     b'"started_at_unix_ms": 1000000000000000000000000000000}',
     "not a rollout state: started_at_unix_ms: "),
    (b"[1]", "not a rollout state: : Input should be a valid dictionary"),
])
def test_load_state_refusals_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as info:
        load_state(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
