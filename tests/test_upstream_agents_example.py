"""examples/bundles/upstream-agents: multi-agent work as current Codex writes it.

The golden state.json was checked by hand against upstream-delta-2.md; these
tests pin what that check found, rule by rule, on the bundle's own evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import bundle_bytes, load_script
from tracegraph.errors import TracegraphError
from tracegraph.reducer import replay

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLE = REPO_ROOT / "examples" / "bundles" / "upstream-agents"
GENERATOR = REPO_ROOT / "examples" / "generate_current_bundle.py"
Json = dict[str, Any]


def _events() -> list[Json]:
    lines = (BUNDLE / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["payload"] | {"seq": json.loads(line)["seq"]} for line in lines]


def _payload(ref: Json) -> Any:
    return json.loads((BUNDLE / ref["path"]).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def state() -> Json:
    value: Json = json.loads((BUNDLE / "state.json").read_text(encoding="utf-8"))
    return value


def _tool(events: list[Json], tool_name: str) -> str:
    for event in events:
        if event["type"] == "tool_call_started":
            invocation = _payload(event["invocation_payload"])
            if invocation["tool_name"] == tool_name and invocation["tool_namespace"]:
                return str(event["tool_call_id"])
    raise AssertionError(tool_name)


def _activities(events: list[Json]) -> dict[str, Json]:
    return {event["tool_call_id"]: _payload(event["runtime_payload"]) | {"status": event["status"]}
            for event in events if event["type"] == "tool_call_runtime_ended"
            and "agent_thread_id" in _payload(event["runtime_payload"])}


def test_regenerates_byte_for_byte(tmp_path: Path) -> None:
    load_script(GENERATOR).generate(tmp_path / "bundle")
    assert bundle_bytes(tmp_path / "bundle") == bundle_bytes(BUNDLE)


def test_auto_picks_upstream_and_matches_the_golden_state() -> None:
    result = replay(BUNDLE, dialect="auto")
    assert result.dialect.value == "upstream"
    assert result.dialect_reason == "line 6: an additional_tools request item"
    assert result.trace.to_state_json() == (BUNDLE / "state.json").read_text(encoding="utf-8")


def test_the_seed_dialect_refuses_it() -> None:
    with pytest.raises(TracegraphError, match="unsupported model item type additional_tools"):
        replay(BUNDLE, dialect="seed")


def test_activities_decide_which_edges_exist(state: Json) -> None:
    events = _events()
    activities = _activities(events)
    spawn, hint = _tool(events, "spawn_agent"), _tool(events, "send_message")
    follow, root = _tool(events, "followup_task"), state["root_thread_id"]
    child = next(t for t in state["threads"] if t != root)
    reply = next(call for call, act in activities.items() if act.get("operation") == "parent_reply")
    assert activities[follow]["outcome"] == "failed" and activities[follow]["status"] == "failed"
    assert activities[hint]["operation"] == "send_message"
    # Row 1: the failed follow-up and the parent reply make no edge. Row 5: the hint's
    # delivery is encrypted, so nothing matches its message and a send edge is dropped;
    # the spawn's task is encrypted too, and only a spawn falls back to the thread.
    edges = state["interaction_edges"]
    assert set(edges) == {f"edge:spawn:{root}:{child}",
                          next(e for e in edges if e.startswith("edge:agent_result:"))}
    assert not {f"edge:tool:{hint}", f"edge:tool:{follow}", f"edge:tool:{reply}"} & set(edges)
    spawn_edge = edges[f"edge:spawn:{root}:{child}"]
    assert spawn_edge["source"] == {"type": "tool_call", "tool_call_id": spawn}
    assert spawn_edge["target"] == {"type": "thread", "thread_id": child}
    assert spawn_edge["carried_item_ids"] == []
    tool = state["tool_calls"][spawn]
    assert spawn_edge["carried_raw_payload_ids"] == [
        tool["raw_invocation_payload_id"], *tool["raw_runtime_payload_ids"],
        tool["raw_result_payload_id"]]


def test_agent_result_targets_the_delivery_the_child_authored(state: Json) -> None:
    root = state["root_thread_id"]
    edge = next(e for k, e in state["interaction_edges"].items()
                if k.startswith("edge:agent_result:"))
    source = state["conversation_items"][edge["source"]["item_id"]]
    target = state["conversation_items"][edge["target"]["item_id"]]
    child_path = state["threads"][source["thread_id"]]["agent_path"]
    # Row 3: the delivery's author is the child; the source is its final answer.
    assert target["agent_message"] == {"author": child_path, "recipient": "/root"}
    assert target["thread_id"] == root and edge["carried_item_ids"] == [target["item_id"]]
    assert source["kind"] == "message" and source["channel"] == "final"
    assert "agent_message" not in source


def test_two_part_deliveries_keep_envelope_and_encrypted_value(state: Json) -> None:
    deliveries = [item for item in state["conversation_items"].values()
                  if item.get("agent_message", {}).get("recipient") == "/root/tester"]
    assert len(deliveries) == 2
    for item in deliveries:
        text, encoded = item["body"]["parts"]
        assert text["type"] == "text" and text["text"].startswith("Message Type: ")
        assert encoded["type"] == "encoded" and encoded["label"] == "encrypted_content"


def test_additional_tools_passthrough_and_cache_writes(state: Json) -> None:
    events = _events()
    requests = [e for e in events if e["type"] == "inference_started"]
    first = state["inference_calls"][requests[0]["inference_call_id"]]
    body = _payload(requests[0]["request_payload"])
    assert body["input"][0]["type"] == "additional_tools" and "tools" not in body
    # Row 6: the additional_tools item is not a conversation item.
    assert len(first["request_item_ids"]) == len(body["input"]) - 1
    # Row 7: the full request of turn 2 replays the answer with passthrough metadata,
    # and it is still the same item.
    last = requests[-1]
    replayed = [item for item in _payload(last["request_payload"])["input"]
                if "internal_chat_message_metadata_passthrough" in item]
    assert len(replayed) == 1
    final = state["inference_calls"][last["inference_call_id"]]
    previous = state["inference_calls"][requests[-2]["inference_call_id"]]
    assert final["request_item_ids"][:-1] == [*previous["request_item_ids"],
                                              *previous["response_item_ids"]]
    # Row 8: cache writes are read (0 where a response reports 0) and written.
    usages = [call["usage"] for call in state["inference_calls"].values()]
    assert all("cache_write_input_tokens" in usage for usage in usages)
    assert first["usage"]["cache_write_input_tokens"] == 6_656
    # Row 10: context anchors stay protocol breadcrumbs.
    assert any(e["type"] == "protocol_event_observed"
               and e["event_type"] == "context_anchor_saved" for e in events)
