"""Port of ``codex-core/src/rollout_trace_tests.rs``: bundles as Codex's recorder writes them.

The recorder is Codex's, not tracegraph's; what these tests pin is the reducer's side
of its contract. Each bundle is written event by event as ``RolloutTraceRecorder``
writes it (``create_in_root``: ``rollout_started`` then the root's ``thread_started``
with its session metadata payload; ``record_thread_ended``: ``thread_ended``, and
``rollout_ended`` after it for the root thread only), then replayed; ``replay`` also
asks the reference reducer for the same ``state.json`` bytes when it is present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import create_writer, replay
from tracegraph.bundle.events import RawTraceEvent
from tracegraph.bundle.reader import parse_event_line
from tracegraph.bundle.writer import TraceWriter

ROOT = "019e0000-0000-7000-8000-0000000000a1"
CHILD = "019e0000-0000-7000-8000-0000000000b2"


def session_metadata(thread_id: str, agent_path: str, **extra: Any) -> dict[str, Any]:
    """``ThreadStartedTraceMetadata`` (``minimal_metadata``). The reference does not
    show how ``SessionSource`` serializes; no reduced field reads this payload, which
    is kept whole as raw evidence, so its exact shape does not matter here."""
    return {
        "thread_id": thread_id,
        "agent_path": agent_path,
        "task_name": None,
        "nickname": None,
        "agent_role": None,
        "session_source": "exec",
        "cwd": "/workspace",
        "rollout_path": None,
        "model": "gpt-test",
        "provider_name": "test-provider",
        "approval_policy": "never",
        "sandbox_policy": "danger-full-access",
        **extra,
    }


def record_thread_started(writer: TraceWriter, metadata: dict[str, Any]) -> None:
    payload = writer.write_json_payload("session_metadata", metadata)
    writer.append({"type": "thread_started", "thread_id": metadata["thread_id"],
                   "agent_path": metadata["agent_path"], "metadata_payload": payload})


def create_in_root(bundle: Path, metadata: dict[str, Any]) -> TraceWriter:
    writer = create_writer(bundle, "trace-1", metadata["thread_id"], metadata["thread_id"])
    writer.append({"type": "rollout_started", "trace_id": "trace-1",
                   "root_thread_id": metadata["thread_id"]})
    record_thread_started(writer, metadata)
    return writer


def record_thread_ended(writer: TraceWriter, thread_id: str, status: str) -> None:
    writer.append({"type": "thread_ended", "thread_id": thread_id, "status": status})
    if thread_id == writer.manifest.root_thread_id:
        writer.append({"type": "rollout_ended", "status": status})


def test_create_in_root_writes_replayable_lifecycle_events(tmp_path: Path) -> None:
    writer = create_in_root(tmp_path, session_metadata(
        ROOT, "/root", rollout_path="/tmp/rollout.jsonl"))
    record_thread_ended(writer, ROOT, "completed")

    replayed = replay(tmp_path)
    assert replayed.status == "completed"
    assert replayed.root_thread_id == ROOT
    assert replayed.threads[ROOT].agent_path == "/root"
    assert len(replayed.raw_payloads) == 1


def test_spawned_thread_start_appends_to_root_bundle(tmp_path: Path) -> None:
    writer = create_in_root(tmp_path, session_metadata(ROOT, "/root"))
    record_thread_started(writer, session_metadata(
        CHILD, "/root/repo_file_counter", task_name="repo_file_counter", nickname="Kepler",
        agent_role="worker", rollout_path="/tmp/child-rollout.jsonl",
        session_source={"subagent": {"thread_spawn": {
            "parent_thread_id": ROOT, "depth": 1, "agent_path": "/root/repo_file_counter",
            "agent_nickname": "Kepler", "agent_role": "worker"}}},
    ))
    record_thread_ended(writer, CHILD, "completed")

    replayed = replay(tmp_path)
    assert len(replayed.threads) == 2
    assert replayed.threads[CHILD].agent_path == "/root/repo_file_counter"
    # Only the root's end ends the rollout.
    assert replayed.status == "running"
    assert replayed.threads[CHILD].execution.status == "completed"
    assert len(replayed.raw_payloads) == 2


def test_protocol_wrapper_records_selected_events_as_raw_payloads(tmp_path: Path) -> None:
    writer = create_in_root(tmp_path, session_metadata(ROOT, "/root"))
    payload = writer.write_json_payload("protocol_event", {"type": "shutdown_complete"})
    writer.append({"type": "protocol_event_observed", "event_type": "shutdown_complete",
                   "event_payload": payload})
    writer.close()

    lines = (tmp_path / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    events = [parse_event_line(text, line=number)
              for number, text in enumerate(lines, start=1)]
    seen = [event for event in events if isinstance(event, RawTraceEvent)
            and event.payload.type == "protocol_event_observed"]
    assert [event.payload.event_type for event in seen] == ["shutdown_complete"]  # type: ignore[union-attr]
    replayed = replay(tmp_path)
    assert payload.raw_payload_id in replayed.raw_payloads
