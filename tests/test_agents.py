"""Port of ``src/reducer/tool/agents_tests.rs``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support import (
    append_completed_inference,
    append_inference_request,
    as_json,
    create_started_agent_writer,
    create_writer,
    json_to_string,
    message,
    replay,
    start_agent_turn,
    start_thread,
    start_turn_for_thread,
    trace_context_for_agent,
    trace_context_for_thread,
)
from tracegraph.bundle.writer import TraceWriter
from tracegraph.model.conversation import ConversationItem
from tracegraph.model.payload import RawPayloadRef

CHILD_THREAD_ID = "019d0000-0000-7000-8000-000000000002"
SPAWN_EDGE_ID = (
    "edge:spawn:019d0000-0000-7000-8000-000000000001:019d0000-0000-7000-8000-000000000002"
)


def test_child_thread_metadata_creates_spawn_origin_without_delivery_edge(
    tmp_path: Path,
) -> None:
    writer = create_writer(
        tmp_path,
        "trace-1",
        "rollout-1",
        "019d0000-0000-7000-8000-000000000002",
    )
    metadata = writer.write_json_payload(
        "session_metadata",
        {
            "nickname": "James",
            "agent_role": "explorer",
            "task_name": "repo_file_counter",
            "model": "gpt-test",
            "session_source": {
                "subagent": {
                    "thread_spawn": {
                        "parent_thread_id": "019d0000-0000-7000-8000-000000000001",
                        "agent_path": "/root/repo_file_counter",
                        "agent_nickname": "James",
                        "agent_role": "explorer",
                    }
                }
            },
        },
    )
    writer.append(
        {
            "type": "thread_started",
            "thread_id": "019d0000-0000-7000-8000-000000000002",
            "agent_path": "/root/repo_file_counter",
            "metadata_payload": metadata,
        }
    )

    replayed = replay(tmp_path)
    thread = replayed.threads["019d0000-0000-7000-8000-000000000002"]
    assert thread.nickname == "James"
    assert thread.default_model == "gpt-test"
    assert as_json(thread.origin) == {
        "type": "spawned",
        "parent_thread_id": "019d0000-0000-7000-8000-000000000001",
        "spawn_edge_id": SPAWN_EDGE_ID,
        "task_name": "repo_file_counter",
        "agent_role": "explorer",
    }
    assert SPAWN_EDGE_ID not in replayed.interaction_edges, (
        "spawn metadata identifies the child, but the delivery edge waits for the recipient "
        "conversation item"
    )


def test_spawn_runtime_payload_targets_delivered_child_message(tmp_path: Path) -> None:
    writer = create_started_agent_writer(tmp_path)
    start_agent_turn(writer, "turn-1")
    spawn_payloads = _append_spawn_agent_tool_lifecycle(writer, "turn-1")

    # Then record the child-side model-visible task message. This is the
    # preferred target because it pinpoints where the delegated work entered
    # the child timeline.
    start_thread(writer, CHILD_THREAD_ID, "/root/repo_file_counter")
    start_turn_for_thread(writer, CHILD_THREAD_ID, "turn-child-1")
    delivered = _inter_agent_message(
        "/root",
        "/root/repo_file_counter",
        "count",
        trigger_turn=True,
    )
    append_inference_request(
        writer,
        CHILD_THREAD_ID,
        "turn-child-1",
        "inference-child-1",
        [message("assistant", delivered)],
    )

    replayed = replay(tmp_path)
    edge = replayed.interaction_edges[SPAWN_EDGE_ID]
    assert edge.kind == "spawn_agent"
    assert as_json(edge.source) == {"type": "tool_call", "tool_call_id": "call-spawn"}
    target_item_id = _target_conversation_item_id(edge.target)
    assert edge.carried_item_ids == [target_item_id]
    assert replayed.conversation_items[target_item_id].thread_id == CHILD_THREAD_ID
    assert edge.carried_raw_payload_ids == [
        spawn_payloads.invocation.raw_payload_id,
        spawn_payloads.begin.raw_payload_id,
        spawn_payloads.end.raw_payload_id,
        spawn_payloads.result.raw_payload_id,
    ]


def test_spawn_runtime_payload_falls_back_to_child_thread_without_delivery_item(
    tmp_path: Path,
) -> None:
    writer = create_started_agent_writer(tmp_path)
    start_agent_turn(writer, "turn-1")
    spawn_payloads = _append_spawn_agent_tool_lifecycle(writer, "turn-1")

    # Deliberately start the child thread without appending an inference
    # request containing the inter-agent task message. This reproduces the
    # failure path where the child aborts before the reducer can target the
    # precise child-side ConversationItem.
    start_thread(writer, CHILD_THREAD_ID, "/root/repo_file_counter")

    replayed = replay(tmp_path)
    edge = replayed.interaction_edges[SPAWN_EDGE_ID]
    assert edge.kind == "spawn_agent"
    assert as_json(edge.source) == {"type": "tool_call", "tool_call_id": "call-spawn"}
    assert as_json(edge.target) == {"type": "thread", "thread_id": CHILD_THREAD_ID}
    # No transcript item carried the task, so the fallback edge should not
    # claim one. The raw payloads still preserve the tool evidence.
    assert edge.carried_item_ids == []
    assert edge.carried_raw_payload_ids == [
        spawn_payloads.invocation.raw_payload_id,
        spawn_payloads.begin.raw_payload_id,
        spawn_payloads.end.raw_payload_id,
        spawn_payloads.result.raw_payload_id,
    ]


def test_send_message_runtime_payload_targets_delivered_child_message(tmp_path: Path) -> None:
    writer = create_started_agent_writer(tmp_path)
    start_agent_turn(writer, "turn-1")
    invocation_payload = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "send_message",
            "payload": {
                "type": "function",
                "arguments": '{"target":"/root/child","message":"hello"}',
            },
        },
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "call-send",
            "model_visible_call_id": "call-send",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "send_message"},
            "summary": {
                "type": "generic",
                "label": "send_message",
                "input_preview": None,
                "output_preview": None,
            },
            "invocation_payload": invocation_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    begin_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "call-send",
            "sender_thread_id": "019d0000-0000-7000-8000-000000000001",
            "receiver_thread_id": "019d0000-0000-7000-8000-000000000002",
            "prompt": "hello",
            "status": "running",
        },
    )
    writer.append(
        {
            "type": "tool_call_runtime_started",
            "tool_call_id": "call-send",
            "runtime_payload": begin_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    end_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "call-send",
            "sender_thread_id": "019d0000-0000-7000-8000-000000000001",
            "receiver_thread_id": "019d0000-0000-7000-8000-000000000002",
            "prompt": "hello",
            "status": "running",
        },
    )
    writer.append(
        {
            "type": "tool_call_runtime_ended",
            "tool_call_id": "call-send",
            "status": "completed",
            "runtime_payload": end_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    start_thread(writer, CHILD_THREAD_ID, "/root/child")
    start_turn_for_thread(writer, CHILD_THREAD_ID, "turn-child-1")
    delivered = _inter_agent_message("/root", "/root/child", "hello", trigger_turn=False)
    append_inference_request(
        writer,
        CHILD_THREAD_ID,
        "turn-child-1",
        "inference-child-1",
        [message("assistant", delivered)],
    )

    replayed = replay(tmp_path)
    edge = replayed.interaction_edges["edge:tool:call-send"]
    assert edge.kind == "send_message"
    assert as_json(edge.source) == {"type": "tool_call", "tool_call_id": "call-send"}
    target_item_id = _target_conversation_item_id(edge.target)
    assert edge.carried_item_ids == [target_item_id]
    assert replayed.conversation_items[target_item_id].thread_id == CHILD_THREAD_ID
    assert edge.ended_at_unix_ms is not None


def test_close_agent_runtime_payload_targets_thread(tmp_path: Path) -> None:
    writer = create_started_agent_writer(tmp_path)
    start_thread(writer, CHILD_THREAD_ID, "/root/child")
    start_agent_turn(writer, "turn-1")
    invocation_payload = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "close_agent",
            "payload": {
                "type": "function",
                "arguments": '{"target":"/root/child"}',
            },
        },
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "call-close",
            "model_visible_call_id": "call-close",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "close_agent"},
            "summary": {
                "type": "generic",
                "label": "close_agent",
                "input_preview": None,
                "output_preview": None,
            },
            "invocation_payload": invocation_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    begin_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "call-close",
            "sender_thread_id": "019d0000-0000-7000-8000-000000000001",
            "receiver_thread_id": "019d0000-0000-7000-8000-000000000002",
        },
    )
    writer.append(
        {
            "type": "tool_call_runtime_started",
            "tool_call_id": "call-close",
            "runtime_payload": begin_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    end_payload = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "call-close",
            "sender_thread_id": "019d0000-0000-7000-8000-000000000001",
            "receiver_thread_id": "019d0000-0000-7000-8000-000000000002",
            "receiver_agent_nickname": "Scout",
            "receiver_agent_role": "explorer",
            "status": "running",
        },
    )
    writer.append(
        {
            "type": "tool_call_runtime_ended",
            "tool_call_id": "call-close",
            "status": "completed",
            "runtime_payload": end_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    result_payload = writer.write_json_payload("tool_result", {"previous_status": "running"})
    writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "call-close",
            "status": "completed",
            "result_payload": result_payload,
        },
        **trace_context_for_agent("turn-1"),
    )
    writer.append(
        {
            "type": "thread_ended",
            "thread_id": "019d0000-0000-7000-8000-000000000002",
            "status": "completed",
        }
    )

    replayed = replay(tmp_path)
    edge = replayed.interaction_edges["edge:tool:call-close"]
    assert edge.kind == "close_agent"
    assert as_json(edge.source) == {"type": "tool_call", "tool_call_id": "call-close"}
    assert as_json(edge.target) == {"type": "thread", "thread_id": CHILD_THREAD_ID}
    assert edge.carried_item_ids == []
    assert edge.carried_raw_payload_ids == [
        invocation_payload.raw_payload_id,
        begin_payload.raw_payload_id,
        end_payload.raw_payload_id,
        result_payload.raw_payload_id,
    ]
    assert replayed.threads[CHILD_THREAD_ID].execution.status == "completed"
    assert replayed.status == "running"


def test_agent_result_edge_links_child_result_to_parent_notification(tmp_path: Path) -> None:
    writer = create_started_agent_writer(tmp_path)
    start_thread(writer, CHILD_THREAD_ID, "/root/child")
    start_turn_for_thread(writer, CHILD_THREAD_ID, "turn-child-1")
    append_completed_inference(
        writer,
        CHILD_THREAD_ID,
        "turn-child-1",
        "inference-child-1",
        [message("assistant", "task")],
        [message("assistant", "done")],
    )

    notification = (
        "<subagent_notification>"
        '{"agent_path":"/root/child","status":{"completed":"done"}}'
        "</subagent_notification>"
    )
    carried_payload = writer.write_json_payload(
        "agent_result",
        {
            "child_agent_path": "/root/child",
            "message": notification,
            "status": {"completed": "done"},
        },
    )
    writer.append(
        {
            "type": "agent_result_observed",
            "edge_id": "edge:agent_result:thread-child:turn-child-1:thread-root",
            "child_thread_id": "019d0000-0000-7000-8000-000000000002",
            "child_codex_turn_id": "turn-child-1",
            "parent_thread_id": "019d0000-0000-7000-8000-000000000001",
            "message": notification,
            "carried_payload": carried_payload,
        },
        **trace_context_for_thread(CHILD_THREAD_ID, "turn-child-1"),
    )

    start_agent_turn(writer, "turn-root-1")
    delivered = _inter_agent_message("/root/child", "/root", notification, trigger_turn=False)
    append_inference_request(
        writer,
        "019d0000-0000-7000-8000-000000000001",
        "turn-root-1",
        "inference-root-1",
        [message("assistant", delivered)],
    )

    replayed = replay(tmp_path)
    edge = replayed.interaction_edges["edge:agent_result:thread-child:turn-child-1:thread-root"]
    assert edge.kind == "agent_result"
    assert edge.source.type == "conversation_item", "expected child result conversation item source"
    source_item_id = edge.source.item_id
    assert _text_body(replayed.conversation_items[source_item_id]) == "done"
    target_item_id = _target_conversation_item_id(edge.target)
    assert (
        replayed.conversation_items[target_item_id].thread_id
        == "019d0000-0000-7000-8000-000000000001"
    )
    assert edge.carried_item_ids == [target_item_id]
    assert edge.carried_raw_payload_ids == [carried_payload.raw_payload_id]


def test_agent_result_edge_falls_back_to_child_thread_without_result_message(
    tmp_path: Path,
) -> None:
    writer = create_started_agent_writer(tmp_path)
    # The child thread and turn exist, but there is intentionally no completed
    # assistant message for this turn. Failed child tasks can still notify the
    # parent through AgentStatus, so the result edge must not require a final
    # transcript item from the child.
    start_thread(writer, CHILD_THREAD_ID, "/root/child")
    start_turn_for_thread(writer, CHILD_THREAD_ID, "turn-child-1")

    notification = (
        "<subagent_notification>"
        '{"agent_path":"/root/child","status":{"failed":"boom"}}'
        "</subagent_notification>"
    )
    carried_payload = writer.write_json_payload(
        "agent_result",
        {
            "child_agent_path": "/root/child",
            "message": notification,
            "status": {"failed": "boom"},
        },
    )
    writer.append(
        {
            "type": "agent_result_observed",
            "edge_id": "edge:agent_result:thread-child:turn-child-1:thread-root",
            "child_thread_id": "019d0000-0000-7000-8000-000000000002",
            "child_codex_turn_id": "turn-child-1",
            "parent_thread_id": "019d0000-0000-7000-8000-000000000001",
            "message": notification,
            "carried_payload": carried_payload,
        },
        **trace_context_for_thread(CHILD_THREAD_ID, "turn-child-1"),
    )

    # The parent does receive the failure notification as a model-visible
    # mailbox item. The target should remain that precise parent-side
    # ConversationItem even though the source falls back to the child thread.
    start_agent_turn(writer, "turn-root-1")
    delivered = _inter_agent_message("/root/child", "/root", notification, trigger_turn=False)
    append_inference_request(
        writer,
        "019d0000-0000-7000-8000-000000000001",
        "turn-root-1",
        "inference-root-1",
        [message("assistant", delivered)],
    )

    replayed = replay(tmp_path)
    edge = replayed.interaction_edges["edge:agent_result:thread-child:turn-child-1:thread-root"]
    assert edge.kind == "agent_result"
    assert as_json(edge.source) == {
        "type": "thread",
        "thread_id": "019d0000-0000-7000-8000-000000000002",
    }
    target_item_id = _target_conversation_item_id(edge.target)
    assert (
        replayed.conversation_items[target_item_id].thread_id
        == "019d0000-0000-7000-8000-000000000001"
    )
    assert edge.carried_item_ids == [target_item_id]
    assert edge.carried_raw_payload_ids == [carried_payload.raw_payload_id]


@dataclass
class _SpawnAgentToolPayloads:
    invocation: RawPayloadRef
    begin: RawPayloadRef
    end: RawPayloadRef
    result: RawPayloadRef


def _append_spawn_agent_tool_lifecycle(
    writer: TraceWriter, turn_id: str
) -> _SpawnAgentToolPayloads:
    # Keep the parent-side tool lifecycle in one place so the spawn tests can
    # focus on the child-side event that decides the edge target.
    invocation = writer.write_json_payload(
        "tool_invocation",
        {
            "tool_name": "spawn_agent",
            "payload": {
                "type": "function",
                "arguments": '{"task_name":"repo_file_counter","message":"count"}',
            },
        },
    )
    writer.append(
        {
            "type": "tool_call_started",
            "tool_call_id": "call-spawn",
            "model_visible_call_id": "call-spawn",
            "code_mode_runtime_tool_id": None,
            "requester": {"type": "model"},
            "kind": {"type": "spawn_agent"},
            "summary": {
                "type": "generic",
                "label": "spawn_agent",
                "input_preview": None,
                "output_preview": None,
            },
            "invocation_payload": invocation,
        },
        **trace_context_for_agent(turn_id),
    )
    begin = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "call-spawn",
            "sender_thread_id": "019d0000-0000-7000-8000-000000000001",
            "prompt": "count",
        },
    )
    writer.append(
        {
            "type": "tool_call_runtime_started",
            "tool_call_id": "call-spawn",
            "runtime_payload": begin,
        },
        **trace_context_for_agent(turn_id),
    )
    end = writer.write_json_payload(
        "tool_runtime_event",
        {
            "call_id": "call-spawn",
            "sender_thread_id": "019d0000-0000-7000-8000-000000000001",
            "new_thread_id": "019d0000-0000-7000-8000-000000000002",
            "prompt": "count",
            "model": "gpt-test",
            "reasoning_effort": "medium",
            "status": "running",
        },
    )
    writer.append(
        {
            "type": "tool_call_runtime_ended",
            "tool_call_id": "call-spawn",
            "status": "completed",
            "runtime_payload": end,
        },
        **trace_context_for_agent(turn_id),
    )
    result = writer.write_json_payload("tool_result", {"task_name": "/root/repo_file_counter"})
    writer.append(
        {
            "type": "tool_call_ended",
            "tool_call_id": "call-spawn",
            "status": "completed",
            "result_payload": result,
        },
        **trace_context_for_agent(turn_id),
    )
    return _SpawnAgentToolPayloads(invocation=invocation, begin=begin, end=end, result=result)


def _inter_agent_message(author: str, recipient: str, content: str, *, trigger_turn: bool) -> str:
    return json_to_string(
        {
            "author": author,
            "recipient": recipient,
            "other_recipients": [],
            "content": content,
            "trigger_turn": trigger_turn,
        }
    )


def _target_conversation_item_id(anchor: object) -> str:
    anchor_json = as_json(anchor)
    assert anchor_json["type"] == "conversation_item", "expected conversation item target"
    return anchor_json["item_id"]


def _text_body(item: ConversationItem) -> str:
    parts = as_json(item.body.parts)
    assert len(parts) == 1 and parts[0]["type"] == "text", "expected single text part"
    return parts[0]["text"]
