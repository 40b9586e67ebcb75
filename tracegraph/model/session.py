"""Threads, turns and the execution window shared by runtime objects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from tracegraph.model._base import SnakeEnum, TraceModel

__all__ = [
    "AgentOrigin",
    "AgentThread",
    "CodexTurn",
    "ExecutionStatus",
    "ExecutionWindow",
    "RolloutStatus",
    "RootOrigin",
    "SpawnedOrigin",
    "running_window",
]



class RolloutStatus(SnakeEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


class ExecutionStatus(SnakeEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


class ExecutionWindow(TraceModel):
    """Runtime interval; ``seq`` is the causal order, wall time is for display."""

    started_at_unix_ms: int
    started_seq: int
    ended_at_unix_ms: int | None = None
    ended_seq: int | None = None
    status: ExecutionStatus = ExecutionStatus.RUNNING

    def end(self, ended_at_unix_ms: int, ended_seq: int, status: ExecutionStatus) -> None:
        """Close (or re-close) the window.

        Every runtime object ends, so this writes the three fields as pydantic's
        ``__setattr__`` would here (no assignment validation: store the value,
        mark the field set) without its per-field dispatch.
        """
        fields = self.__dict__
        fields["ended_at_unix_ms"] = ended_at_unix_ms
        fields["ended_seq"] = ended_seq
        fields["status"] = status
        self.__pydantic_fields_set__.update(_END_FIELDS)


_END_FIELDS = ("ended_at_unix_ms", "ended_seq", "status")


def running_window(started_at_unix_ms: int, started_seq: int) -> ExecutionWindow:
    return ExecutionWindow(started_at_unix_ms=started_at_unix_ms, started_seq=started_seq)


class RootOrigin(TraceModel):
    type: Literal["root"] = "root"


class SpawnedOrigin(TraceModel):
    type: Literal["spawned"] = "spawned"
    parent_thread_id: str
    #: Interaction edge that carried the spawn task.
    spawn_edge_id: str
    task_name: str
    agent_role: str


AgentOrigin = Annotated[RootOrigin | SpawnedOrigin, Field(discriminator="type")]


class AgentThread(TraceModel):
    thread_id: str
    agent_path: str
    nickname: str | None = None
    origin: AgentOrigin
    execution: ExecutionWindow
    default_model: str | None = None
    #: Conversation items first observed for this thread, in transcript order.
    conversation_item_ids: list[str] = Field(default_factory=list)


class CodexTurn(TraceModel):
    """One activation of the Codex runtime for one thread (not a chat turn)."""

    codex_turn_id: str
    thread_id: str
    execution: ExecutionWindow
    input_item_ids: list[str] = Field(default_factory=list)
