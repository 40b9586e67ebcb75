"""Thread and turn reduction.

Threads are the container every other module links into. This module also
owns the parsing of thread metadata, so the dispatcher never needs to know the
shape of multi-agent ``session_source`` payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracegraph.bundle import events as ev
from tracegraph.errors import TraceError
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.session import (
    AgentThread,
    CodexTurn,
    ExecutionStatus,
    RootOrigin,
    SpawnedOrigin,
    running_window,
)
from tracegraph.reducer.serde_shapes import (
    ShapeError,
    field,
    json_value,
    read_struct,
    string,
)
from tracegraph.reducer.state import Domain

__all__ = ["ThreadReducer", "spawn_edge_id", "task_name_from_agent_path"]


def spawn_edge_id(parent_thread_id: str, child_thread_id: str) -> str:
    """Stable id of the spawn relationship between two threads."""
    return f"edge:spawn:{parent_thread_id}:{child_thread_id}"


def task_name_from_agent_path(agent_path: str) -> str:
    for segment in reversed(agent_path.split("/")):
        if segment:
            return segment
    return agent_path


@dataclass(slots=True)
class ThreadSpawnMetadata:
    parent_thread_id: str
    agent_path: str | None
    task_name: str | None
    agent_role: str | None


def _coalesce(*values: str | None) -> str | None:
    """``Option::or_else`` chain: the first value that is not ``None``."""
    for value in values:
        if value is not None:
            return value
    return None


def _str_field(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _thread_spawn(metadata: dict[str, Any]) -> ThreadSpawnMetadata | None:
    source = metadata["session_source"]
    subagent = source.get("subagent") if isinstance(source, dict) else None
    spawn = subagent.get("thread_spawn") if isinstance(subagent, dict) else None
    if not isinstance(spawn, dict):
        return None
    parent_thread_id = _str_field(spawn, "parent_thread_id")
    if parent_thread_id is None:
        return None
    agent_path = _coalesce(_str_field(spawn, "agent_path"), metadata["agent_path"])
    task_name = _coalesce(_str_field(spawn, "task_name"), metadata["task_name"])
    if task_name is None and agent_path is not None:
        task_name = task_name_from_agent_path(agent_path)
    return ThreadSpawnMetadata(
        parent_thread_id=parent_thread_id,
        agent_path=agent_path,
        task_name=task_name,
        agent_role=_coalesce(_str_field(spawn, "agent_role"), metadata["agent_role"]),
    )


class ThreadReducer(Domain):
    """The rollout, its threads and their Codex turns. No state beyond the trace."""

    def start_rollout(self, event: ev.RawTraceEvent, started: ev.RolloutStarted) -> None:
        self.rollout.trace_id = started.trace_id
        self.rollout.root_thread_id = started.root_thread_id

    def end_rollout(self, event: ev.RawTraceEvent, ended: ev.RolloutEnded) -> None:
        self.rollout.status = ended.status
        self.rollout.ended_at_unix_ms = event.wall_time_unix_ms

    def start_thread(self, event: ev.RawTraceEvent, started: ev.ThreadStarted) -> None:
        """Insert a thread; v2 subagent metadata, when present, is authoritative."""
        thread_id = started.thread_id
        if thread_id in self.rollout.threads:
            raise TraceError(f"duplicate thread start for {thread_id}")
        metadata = (
            self._thread_started_metadata(started.metadata_payload)
            if started.metadata_payload is not None
            else None
        )
        spawn = _thread_spawn(metadata) if metadata is not None else None
        # Prefer the SessionSource path so task names and spawn edges derive
        # from the same record.
        agent_path = started.agent_path
        if spawn is not None and spawn.agent_path is not None:
            agent_path = spawn.agent_path
        elif metadata is not None and metadata["agent_path"] is not None:
            agent_path = metadata["agent_path"]
        origin: RootOrigin | SpawnedOrigin
        if spawn is not None:
            origin = SpawnedOrigin(
                parent_thread_id=spawn.parent_thread_id,
                spawn_edge_id=spawn_edge_id(spawn.parent_thread_id, thread_id),
                task_name=spawn.task_name
                if spawn.task_name is not None
                else task_name_from_agent_path(agent_path),
                agent_role=spawn.agent_role if spawn.agent_role is not None else "",
            )
        else:
            origin = RootOrigin()
        self.rollout.threads[thread_id] = AgentThread(
            thread_id=thread_id,
            agent_path=agent_path,
            nickname=metadata["nickname"] if metadata else None,
            origin=origin,
            execution=running_window(event.wall_time_unix_ms, event.seq),
            default_model=metadata["model"] if metadata else None,
        )

    def end_thread(self, event: ev.RawTraceEvent, ended: ev.ThreadEnded) -> None:
        """Mark a thread ended; a child shutdown is not rollout completion."""
        thread = self.thread_mut(ended.thread_id)
        thread.execution.end(event.wall_time_unix_ms, event.seq, ExecutionStatus(ended.status.value))

    def start_codex_turn(self, event: ev.RawTraceEvent, started: ev.CodexTurnStarted) -> None:
        codex_turn_id = started.codex_turn_id
        if codex_turn_id in self.rollout.codex_turns:
            raise TraceError(f"duplicate codex turn start for {codex_turn_id}")
        self.thread_mut(started.thread_id)
        self.rollout.codex_turns[codex_turn_id] = CodexTurn(
            codex_turn_id=codex_turn_id,
            thread_id=started.thread_id,
            execution=running_window(event.wall_time_unix_ms, event.seq),
        )

    def end_codex_turn(self, event: ev.RawTraceEvent, ended: ev.CodexTurnEnded) -> None:
        """End a turn, checking any thread id the envelope carries."""
        thread_id, codex_turn_id, status = event.thread_id, ended.codex_turn_id, ended.status
        turn = self.rollout.codex_turns.get(codex_turn_id)
        if thread_id is not None and turn is not None and turn.thread_id != thread_id:
            raise TraceError(
                f"codex turn end for {codex_turn_id} used thread {thread_id}, "
                f"but the turn belongs to {turn.thread_id}"
            )
        if turn is None:
            raise TraceError(f"codex turn end referenced unknown turn {codex_turn_id}")
        seq, wall_time_unix_ms = event.seq, event.wall_time_unix_ms
        turn.execution.end(wall_time_unix_ms, seq, status)
        self.peers.code_cells.terminate_running_code_cells_for_turn_end(
            seq, wall_time_unix_ms, codex_turn_id, status
        )
        if self.upstream:
            self.peers.inference.close_running_inferences_for_turn_end(
                seq, wall_time_unix_ms, codex_turn_id, status
            )

    def _thread_started_metadata(self, payload: RawPayloadRef) -> dict[str, Any]:
        value = self.read_payload_json(payload)
        try:
            return read_struct(value, "ThreadStartedMetadata", [
                field("agent_path", string, optional=True),
                field("task_name", string, optional=True),
                field("nickname", string, optional=True),
                field("agent_role", string, optional=True),
                field("model", string, optional=True),
                field("session_source", json_value, optional=True),
            ])
        except ShapeError as err:
            raise TraceError(f"parse thread metadata {payload.raw_payload_id}: {err}") from err
