"""The graph of one rollout being built, and what its threads share while it is.

:class:`RolloutBuilder` owns the ``MultiDiGraph`` and its primitives (node keys,
nodes, edges that merge their ``derived_by`` rules, ids unique across threads), the
rollout-wide line order, and what the threads note for the rollout to resolve once
every thread exists: agent tool calls and messages, first user and last assistant
items, spawned children, which thread first used each terminal.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

import networkx as nx

from tracegraph.graph.schema import SCHEMA, SESSION_RULES, Label, Rel
from tracegraph.sessions.group import RolloutGroup, ThreadSource

__all__ = ["AgentCall", "RolloutBuilder"]

#: Per edge type: attributes telling parallel edges apart, and its session rules in order.
_DISTINCT_BY = {edge.name: edge.distinct_by for edge in SCHEMA.edges}
_RULE_ORDER = {rel: [rule.name for rule in rules] for rel, rules in SESSION_RULES.items()}


class AgentCall(Protocol):
    """What the agent edges read of a call to an agent tool (a :class:`~.tools.Tool`)."""

    tool_id: str
    kind: str
    args: dict[str, Any]
    output: Any
    started_at: int | None
    ended_at: int | None


class RolloutBuilder:
    """The graph of one rollout and the state its threads share."""

    def __init__(self, group: RolloutGroup) -> None:
        self.group = group
        self.trace_id = group.root.thread_id
        self.graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        self.dangling: list[str] = []
        self.skipped: Counter[str] = Counter()
        self.item_ids: set[str] = set()
        #: Ids taken by tool calls and inference calls: a second thread reusing one (a
        #: copy not recognised as such) gets its thread id in front, never a merged node.
        self.taken: set[str] = set()
        order = sorted(
            ((record.timestamp_ms or 0, index, record.line)
             for index, thread in enumerate(group.threads) for record in thread.own),
        )
        self.seqs = {(index, line): seq for seq, (_, index, line) in enumerate(order, start=1)}
        #: spawn tool calls, close/send calls, agent messages: resolved once all threads exist.
        self.agent_calls: list[tuple[ThreadSource, AgentCall]] = []
        self.agent_items: list[tuple[ThreadSource, str, str | None]] = []
        self.last_assistant: dict[str, str] = {}
        self.first_user: dict[str, str] = {}
        self.spawn_children: dict[str, str] = {}
        self.terminal_owner: dict[str, str] = {}

    # --- primitives ---------------------------------------------------------

    def key(self, label: Label, object_id: str) -> str:
        # node_key's format, without re-validating the label on every call.
        return f"{self.trace_id}/{label.value}/{object_id}"

    def node(self, label: Label, object_id: str, /, **attrs: Any) -> None:
        data = {"label": label.value, "trace_id": self.trace_id, "object_id": object_id}
        data.update((name, value) for name, value in attrs.items() if value is not None)
        self.graph.add_node(self.key(label, object_id), **data)

    def has_node(self, label: Label, object_id: str) -> bool:
        return self.key(label, object_id) in self.graph

    def node_data(self, label: Label, object_id: str) -> dict[str, Any]:
        """The attributes of a node already added (a live dict: updates land in the graph)."""
        data: dict[str, Any] = self.graph.nodes[self.key(label, object_id)]
        return data

    def edge(self, rel: Rel, source: tuple[Label, str | None], target: tuple[Label, str | None],
             rule: str, /, **attrs: Any) -> None:
        (source_label, source_id), (target_label, target_id) = source, target
        if source_id is None or target_id is None:
            return
        u, v = self.key(source_label, source_id), self.key(target_label, target_id)
        if u not in self.graph or v not in self.graph:
            self.dangling.append(f"{rel.value} {u} -> {v}")
            return
        values = {name: value for name, value in attrs.items() if value is not None}
        edge_key = f"{u}|{rel.value}|{target_label.value}/{target_id}" + "".join(
            f"|{name}={values[name]}" for name in _DISTINCT_BY[rel] if name in values
        )
        if self.graph.has_edge(u, v, edge_key):
            data = self.graph.edges[u, v, edge_key]
            for name, value in values.items():
                data.setdefault(name, value)
            data["derived_by"] = sorted({*data["derived_by"], rule},
                                        key=_RULE_ORDER[rel].index)
            return
        self.graph.add_edge(u, v, key=edge_key, label=rel.value, edge_key=edge_key,
                            trace_id=self.trace_id, provenance="derived", derived_by=[rule],
                            **values)

    def unique(self, object_id: str, thread_id: str) -> str:
        if object_id in self.taken:
            object_id = f"{thread_id}:{object_id}"
        self.taken.add(object_id)
        return object_id

    def seq(self, thread_index: int, line: int) -> int:
        """The rollout-wide position of a line of the thread at ``thread_index``."""
        return self.seqs[(thread_index, line)]

    def count_skipped(self, what: str) -> None:
        """One more record of an unknown type (``"event:TYPE"``...) left out."""
        self.skipped[what] += 1

    def thread_by_ref(self, ref: Any) -> str | None:
        """A loaded thread named by id or agent path (a tool argument)."""
        if not isinstance(ref, str):
            return None
        for thread in self.group.threads:
            if ref in (thread.thread_id, thread.agent_path):
                return thread.thread_id
        return None

    # --- what threads note for the rollout ------------------------------------

    def note_item_id(self, item_id: str) -> None:
        self.item_ids.add(item_id)

    def note_first_user(self, thread_id: str, item: str) -> None:
        self.first_user.setdefault(thread_id, item)

    def note_last_assistant(self, thread_id: str, item: str) -> None:
        self.last_assistant[thread_id] = item

    def note_agent_call(self, source: ThreadSource, tool: AgentCall) -> None:
        self.agent_calls.append((source, tool))

    def note_agent_message(self, receiver: ThreadSource, item: str, author: str | None) -> None:
        self.agent_items.append((receiver, item, author))

    def note_spawned_child(self, call_id: str, child_thread_id: str) -> None:
        """The thread a spawn call started, from its end event (the first one wins)."""
        self.spawn_children.setdefault(call_id, child_thread_id)

    def claim_terminal(self, terminal_id: str, thread_id: str) -> str:
        """The thread that owns a terminal id: the first to use it."""
        return self.terminal_owner.setdefault(terminal_id, thread_id)
