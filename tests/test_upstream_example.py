"""The newer-format example bundle ``examples/bundles/upstream-interrupt``.

Its golden ``state.json`` was checked by hand against ``upstream-delta.md``;
the facts below are the ones that check covered, read back from the raw bundle
rather than from the reduced output.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import bundle_bytes, load_script, reference_reduce, reference_reducer
from tracegraph.errors import TraceError
from tracegraph.model.dialect import Dialect
from tracegraph.reducer import replay

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLE = REPO_ROOT / "examples" / "bundles" / "upstream-interrupt"
GENERATOR = REPO_ROOT / "examples" / "generate_upstream_bundle.py"

Json = dict[str, Any]


@pytest.fixture(scope="module")
def events() -> list[Json]:
    text = (BUNDLE / "trace.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def state() -> Json:
    value: Json = json.loads(replay(BUNDLE, dialect="auto").trace.to_state_json())
    return value


def payload_file(ref: Json) -> Any:
    return json.loads((BUNDLE / ref["path"]).read_text(encoding="utf-8"))


def only(events: list[Json], event_type: str) -> Json:
    (found,) = [e for e in events if e["payload"]["type"] == event_type]
    return found


def test_auto_picks_the_upstream_dialect() -> None:
    result = replay(BUNDLE, dialect="auto")
    assert result.dialect == Dialect.UPSTREAM
    assert "upstream_request_id" in result.dialect_reason
    assert result.skipped_events == ()


def test_golden_state_matches_byte_for_byte() -> None:
    golden = (BUNDLE / "state.json").read_text(encoding="utf-8")
    assert not golden.endswith("\n")
    assert replay(BUNDLE, dialect="auto").trace.to_state_json() == golden
    assert replay(BUNDLE, dialect="upstream").trace.to_state_json() == golden


def test_generator_is_deterministic(tmp_path: Path) -> None:
    load_script(GENERATOR).generate(tmp_path / "bundle")
    compare = filecmp.dircmp(tmp_path / "bundle", BUNDLE, ignore=["state.json"])
    assert compare.left_only == [] and compare.right_only == []
    assert bundle_bytes(tmp_path / "bundle") == bundle_bytes(BUNDLE)


def test_the_seed_dialect_rejects_the_bundle() -> None:
    with pytest.raises(TraceError) as info:
        replay(BUNDLE, dialect="seed")
    assert "mcp_tool_call_correlation_assigned" in str(info.value)


@pytest.mark.reference
def test_the_reference_reducer_rejects_the_bundle() -> None:
    if reference_reducer() is None:
        pytest.skip("../shared/tools/reference-reduce is not on this machine")
    reference = reference_reduce(BUNDLE)
    assert isinstance(reference, str)
    assert "mcp_tool_call_correlation_assigned" in reference


def test_producer_shapes(events: list[Json]) -> None:
    """§1.8: rollout id is the root thread; context-free events; id formats."""
    manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rollout_id"] == manifest["root_thread_id"]
    hex_digits = set("0123456789abcdef")
    assert manifest["trace_id"][14] == "4" and manifest["trace_id"][19] in "89ab"
    for event in events:
        kind = event["payload"]["type"]
        if kind in ("rollout_started", "thread_started", "thread_ended", "rollout_ended",
                    "mcp_tool_call_correlation_assigned"):
            assert (event["thread_id"], event["codex_turn_id"]) == (None, None), kind
        if kind == "inference_started":
            inference_id = event["payload"]["inference_call_id"]
            assert inference_id[14] == "4" and set(inference_id.replace("-", "")) <= hex_digits
        if kind == "inference_completed":
            body = payload_file(event["payload"]["response_payload"])
            assert list(body) == ["response_id", "upstream_request_id", "token_usage",
                                  "output_items"]
            assert "total_tokens" in body["token_usage"]


def test_interrupted_inference_is_closed_by_the_turn_end(
    events: list[Json], state: Json
) -> None:
    """§3.2 then §3.1: the turn end closes it; the late cancel keeps that end."""
    cancelled = only(events, "inference_cancelled")
    inference_id = cancelled["payload"]["inference_call_id"]
    turn_end = next(
        e for e in events
        if e["payload"]["type"] == "codex_turn_ended"
        and e["payload"]["codex_turn_id"] == cancelled["codex_turn_id"]
    )
    assert turn_end["payload"]["status"] == "cancelled"
    assert turn_end["seq"] < cancelled["seq"]

    inference = state["inference_calls"][inference_id]
    assert inference["execution"]["status"] == "cancelled"
    assert inference["execution"]["ended_seq"] == turn_end["seq"]
    assert inference["execution"]["ended_at_unix_ms"] == turn_end["wall_time_unix_ms"]
    assert inference["response_id"] is None
    assert inference["usage"] is None
    partial = cancelled["payload"]["partial_response_payload"]
    assert inference["raw_response_payload_id"] == partial["raw_payload_id"]
    (item_id,) = inference["response_item_ids"]
    partial_text = payload_file(partial)["output_items"][0]["content"][0]["text"]
    item = state["conversation_items"][item_id]
    assert item["body"]["parts"] == [{"type": "text", "text": partial_text}]
    assert item["produced_by"] == [{"type": "inference", "inference_call_id": inference_id}]
    # The next full request replays the partial message: same item.
    assert item_id in state["inference_calls"][_last_inference(events)]["request_item_ids"]


def _last_inference(events: list[Json]) -> str:
    started = [e for e in events if e["payload"]["type"] == "inference_started"]
    inference_id: str = started[-1]["payload"]["inference_call_id"]
    return inference_id


def test_mcp_tool_call_carries_its_correlation_id(events: list[Json], state: Json) -> None:
    """§3.8."""
    correlation = only(events, "mcp_tool_call_correlation_assigned")["payload"]
    tool_calls = state["tool_calls"]
    assert tool_calls[correlation["tool_call_id"]]["mcp_call_id"] == correlation["mcp_call_id"]
    others = [t for i, t in tool_calls.items() if i != correlation["tool_call_id"]]
    assert others and all(t["mcp_call_id"] is None for t in others)


def test_spawn_edge_targets_the_typed_agent_message_delivery(
    events: list[Json], state: Json
) -> None:
    """§3.3 normalization, §3.7 SubAgentActivity and typed delivery targets."""
    activity_event = next(
        e for e in events if e["payload"]["type"] == "tool_call_runtime_ended"
        and "agent_thread_id" in payload_file(e["payload"]["runtime_payload"])
    )
    activity = payload_file(activity_event["payload"]["runtime_payload"])
    assert activity["kind"] == "started"
    tool_call_id = activity_event["payload"]["tool_call_id"]
    tool = state["tool_calls"][tool_call_id]
    assert tool["kind"] == {"type": "spawn_agent"}
    invocation = payload_file(state["raw_payloads"][tool["raw_invocation_payload_id"]])
    message = json.loads(invocation["payload"]["arguments"])["message"]

    child = activity["agent_thread_id"]
    edge_id = f"edge:spawn:{tool['thread_id']}:{child}"
    edge = state["interaction_edges"][edge_id]
    assert edge["kind"] == "spawn_agent"
    assert edge["source"] == {"type": "tool_call", "tool_call_id": tool_call_id}
    assert edge["target"]["type"] == "conversation_item"
    item_id = edge["target"]["item_id"]
    assert edge["carried_item_ids"] == [item_id]
    assert edge["ended_at_unix_ms"] == activity_event["wall_time_unix_ms"]
    assert edge["carried_raw_payload_ids"][:2] == [
        tool["raw_invocation_payload_id"],
        activity_event["payload"]["runtime_payload"]["raw_payload_id"],
    ]

    item = state["conversation_items"][item_id]
    assert item["thread_id"] == child
    assert (item["role"], item["channel"], item["kind"]) == ("assistant", "analysis", "message")
    assert item["agent_message"] == {"author": "/root", "recipient": activity["agent_path"]}
    assert item["body"]["parts"] == [{"type": "text", "text": message}]
    assert list(item).index("agent_message") == list(item).index("kind") + 1
    assert state["threads"][child]["origin"]["spawn_edge_id"] == edge_id


def test_encrypted_only_reasoning_is_upgraded_by_its_later_readable_sighting(
    events: list[Json], state: Json
) -> None:
    """§3.5: first sighting encrypted-only, then a full request replays it with a summary."""
    first_completed = next(e for e in events if e["payload"]["type"] == "inference_completed")
    first_output = payload_file(first_completed["payload"]["response_payload"])["output_items"]
    first_sighting = first_output[0]
    assert first_sighting["type"] == "reasoning" and first_sighting["summary"] == []
    blob = first_sighting["encrypted_content"]

    last = _last_inference(events)
    last_request = payload_file(
        only_started(events, last)["payload"]["request_payload"])["input"]
    (later_sighting,) = [i for i in last_request
                         if i["type"] == "reasoning" and i["encrypted_content"] == blob]
    summary = later_sighting["summary"][0]["text"]

    inference = state["inference_calls"][first_completed["payload"]["inference_call_id"]]
    item_id = inference["response_item_ids"][0]
    assert state["conversation_items"][item_id]["body"]["parts"] == [
        {"type": "summary", "text": summary},
        {"type": "encoded", "label": "encrypted_content", "value": blob},
    ]
    # One item for both sightings.
    assert item_id in state["inference_calls"][last]["request_item_ids"]
    reasoning_items = [i for i in state["conversation_items"].values()
                       if i["kind"] == "reasoning"
                       and {"type": "encoded", "label": "encrypted_content", "value": blob}
                       in i["body"]["parts"]]
    assert len(reasoning_items) == 1


def only_started(events: list[Json], inference_id: str) -> Json:
    (found,) = [e for e in events if e["payload"]["type"] == "inference_started"
                and e["payload"]["inference_call_id"] == inference_id]
    return found
