"""The graph of a growing trace, re-projected only where the new events reached.

:func:`~tracegraph.graph.project` builds a trace's graph from scratch: its cost
grows with the trace. A watched bundle changes a few objects per look, so
:class:`LiveProjection` keeps one graph and, given the keys of the objects the
applied events touched (``Replayer.take_changes``), re-projects those nodes and
re-runs the *emitters* whose edges depend on them. An emitter is one call of a
projection method for one object (``thread_edges(thread)``...) or one group (the
call and output items sharing a call id). Each emitter's edges are kept apart,
so an edge several emitters contribute to is merged again from all of them in
projection order, exactly as the full projection merges it.

Besides an object's own emitters, a change reaches:

- a call/output group: its ANSWERED_BY edges, and the STARTED edges of the
  tools and code cells whose call items it holds;
- an inference call: the EXTENDS/PROMPTED delta of the next call of its thread
  (it extends this call's input), and the STARTED edges of the tools and cells
  started by the items it responded with;
- an interaction edge (recomputed at every snapshot): the PRODUCED edges of the
  items it produced;
- a new node: every emitter that left a dangling reference;
- the Rollout node (status, partial, fingerprint-free attributes) is projected
  at every look.

The result after every :meth:`LiveProjection.update` equals
``project(trace)`` of the same trace, node for node and edge for edge
(``tests/test_watch_live.py`` checks it after every line of the examples).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from tracegraph._gc import collector_paused
from tracegraph.graph.adjacency import edge_attrs, insert_edges
from tracegraph.graph.project import NODE_MAPS, extends_input, merge_edge_data
from tracegraph.graph.project import Projection as _Projection
from tracegraph.graph.schema import GRAPH_SCHEMA_VERSION, Label, RequestInputForm
from tracegraph.model import RolloutTrace
from tracegraph.model.conversation import ConversationItem, InteractionEdgeProducer
from tracegraph.watch.diff import GraphDiff

__all__ = ["LiveProjection"]

#: An emitter: (phase, step, object id or group[, part]), ordered as ``project`` runs them.
Emitter = tuple[Any, ...]
Group = tuple[str, str]

_HEAD: Emitter = (0, 0, "")
# (phase, step) of each emitter kind; the object's key completes the emitter.
_THREAD, _TURN = (0, 1), (0, 2)
_ITEM, _ANSWERED = (1, 0), (1, 1)
_INFERENCE, _TOOL_STARTED, _CELL_STARTED = (2, 0), (2, 1), (2, 2)
_TOOL, _CELL = (3, 0), (3, 1)
_SESSION, _OPERATION = (4, 0), (4, 1)
_COMPACTION, _REQUEST = (5, 0), (5, 1)
_INTERACTION = (6, 0)
_PAYLOAD = (7, 0)
#: The last part of a thread's item-list emitter, (0, 1, thread id, _ITEMS): right
#: after the thread's own edges, as ``thread_edges`` emits them.
_ITEMS = "items"

#: The emitters an object of each map owns.
_OWNED: dict[str, tuple[tuple[int, int], ...]] = {
    "threads": (_THREAD,),
    "codex_turns": (_TURN,),
    "conversation_items": (_ITEM,),
    "inference_calls": (_INFERENCE,),
    "tool_calls": (_TOOL_STARTED, _TOOL),
    "code_cells": (_CELL_STARTED, _CELL),
    "terminal_sessions": (_SESSION,),
    "terminal_operations": (_OPERATION,),
    "compactions": (_COMPACTION,),
    "compaction_requests": (_REQUEST,),
    "interaction_edges": (_INTERACTION,),
    "raw_payloads": (_PAYLOAD,),
}
_LABELS = dict(NODE_MAPS)


@dataclass
class _Output:
    """What one emitter contributed at its last run."""

    edges: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)
    dangling: list[str] = field(default_factory=list)


class LiveProjection(_Projection):
    """One trace's graph, kept equal to ``project(trace)`` look after look."""

    def __init__(self, trace: RolloutTrace, *, full_snapshots: bool = False) -> None:
        form = RequestInputForm.FULL_SNAPSHOT if full_snapshots else RequestInputForm.DELTA
        super().__init__(trace, form)
        self._outputs: dict[Emitter, _Output] = {}
        #: Emitters contributing to each edge key.
        self._edge_emitters: dict[str, set[Emitter]] = {}
        self._with_dangling: set[Emitter] = set()
        # --- indexes behind the derived edges -----------------------------------------
        #: Items of each (thread, call id) group, and each item's group.
        self._groups: dict[Group, set[str]] = {}
        self._item_group: dict[str, Group] = {}
        #: The interaction edges each item's producers name, and the reverse.
        self._item_interactions: dict[str, tuple[str, ...]] = {}
        self._interaction_items: defaultdict[str, set[str]] = defaultdict(set)
        #: Each thread's inference calls in ``(started_seq, id)`` order; each call's place.
        self._call_order: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
        self._call_place: dict[str, tuple[str, int]] = {}
        #: Inference calls (sorted ids) that responded with each item; each call's items.
        self._responded_by: defaultdict[str, list[str]] = defaultdict(list)
        self._responses: dict[str, frozenset[str]] = {}
        #: What each STARTED emitter read (group, items), and who read each of them.
        self._started_reads: dict[Emitter, tuple[Group | None, tuple[str, ...]]] = {}
        self._group_readers: defaultdict[Group, set[Emitter]] = defaultdict(set)
        self._item_readers: defaultdict[str, set[Emitter]] = defaultdict(set)
        #: Each thread's item ids as its item-list emitter last saw them.
        self._thread_items: dict[str, list[str]] = {}
        #: The interaction edge objects of the last look (a snapshot may rebuild some).
        self._interactions: dict[str, object] = {}
        self._started = False
        self._node_diff = GraphDiff()
        #: This look's emitters that must run whole (see ``update``).
        self._whole: set[Emitter] = set()

    # --- one look -----------------------------------------------------------------------

    def update(self, trace: RolloutTrace, changed: dict[str, set[str]] | None) -> GraphDiff:
        """Bring the graph to ``trace``; ``changed`` holds the keys of each map the
        events since the last update touched (``None``: all of them). Returns what
        changed in the graph."""
        if trace.trace_id != self.trace_id:
            raise ValueError("a live projection follows one trace")
        with collector_paused():
            return self._update(trace, changed)

    def _update(self, trace: RolloutTrace, changed: dict[str, set[str]] | None) -> GraphDiff:
        self.trace = trace
        if not self._started or changed is None:
            changed = {name: set(getattr(trace, name)) | set(self._known(name))
                       for name, _ in NODE_MAPS}
            changed["interaction_edges"] = {*trace.interaction_edges, *self._interactions}
            self._started = True
        diff = GraphDiff()
        rerun: set[Emitter] = {_HEAD}
        dirty_groups: set[Group] = set()
        removed_nodes: set[str] = set()
        added_node = self._node_changes(changed, diff, removed_nodes)
        for name, keys in changed.items():
            for key in keys:
                for step in _OWNED[name]:
                    rerun.add((*step, key))
                if name == "threads":
                    rerun.add((*_THREAD, key, _ITEMS))
                if name == "conversation_items":
                    self._item_moved(key, dirty_groups, rerun)
                elif name == "inference_calls":
                    self._call_moved(key, rerun)
                elif name == "interaction_edges":
                    rerun |= {(*_ITEM, item) for item in self._interaction_items.get(key, ())}
        rerun |= self._interaction_changes()
        for group in dirty_groups:
            self._regroup(group, rerun)
        if added_node or removed_nodes:
            rerun |= self._with_dangling
        # Emitters with an edge at a node that goes lose it: they run whole.
        self._whole = set()
        for key in removed_nodes:
            for _, _, edge_key in self.graph.edges(key, keys=True):
                self._whole |= self._edge_emitters.get(edge_key, set())
            for _, _, edge_key in self.graph.in_edges(key, keys=True):
                self._whole |= self._edge_emitters.get(edge_key, set())
        rerun |= self._whole
        self._remove_nodes(removed_nodes, diff)
        touched: dict[str, tuple[str, str]] = {}
        for emitter in sorted(rerun, key=self._order):
            touched.update(self._run(emitter))
        self._merge(touched, diff)
        self.graph.graph.update(
            trace_ids=[self.trace_id], graph_schema_version=GRAPH_SCHEMA_VERSION,
            dangling_references=self._dangling(), request_input_form=self.form.value)
        return diff

    def _known(self, name: str) -> list[str]:
        """Keys of map ``name`` the graph has nodes for."""
        prefix = self.prefixes[_LABELS[name]]
        return [key[len(prefix):] for key in self.graph if key.startswith(prefix)]

    # --- nodes --------------------------------------------------------------------------

    def node(self, label: Label, object_id: str, /, **attrs: Any) -> None:
        # Replace, not update: an attribute that became None is gone.
        key, data = self.node_entry(label, object_id, attrs)
        current = self.node_data.get(key)
        if current is None:
            # The graph's attribute dict itself, so both stay one.
            self.graph.add_node(key)
            current = self.node_data[key] = self.graph.nodes[key]
            current.update(data)
            self._node_diff.nodes.append(key)
        elif current != data:
            current.clear()
            current.update(data)
            self._node_diff.nodes.append(key)

    def _node_changes(self, changed: dict[str, set[str]], diff: GraphDiff,
                      removed: set[str]) -> bool:
        """Re-project the Rollout node and the touched objects' nodes; True when new
        nodes appeared. Keys gone from the trace land in ``removed``."""
        self._node_diff = diff
        before = self.graph.number_of_nodes()
        self.rollout_node()
        adders = self.node_adders
        for name, label in NODE_MAPS:
            objects = getattr(self.trace, name)
            add = adders[label]
            for key in sorted(changed.get(name, ())):
                value = dict.get(objects, key)
                if value is not None:
                    add(value)
                elif self.key(label, key) in self.graph:
                    removed.add(self.key(label, key))
        return self.graph.number_of_nodes() > before

    def _remove_nodes(self, keys: set[str], diff: GraphDiff) -> None:
        for key in sorted(keys):
            for u, v, edge_key, data in [*self.graph.in_edges(key, keys=True, data=True),
                                         *self.graph.edges(key, keys=True, data=True)]:
                diff.removed_edges.append(((u, v, edge_key), str(data.get("label"))))
            diff.removed_nodes.append((key, str(self.graph.nodes[key].get("label"))))
            self.graph.remove_node(key)
            del self.node_data[key]

    # --- what a change reaches --------------------------------------------------------

    def _item_moved(self, item_id: str, dirty_groups: set[Group],
                    rerun: set[Emitter]) -> None:
        item: ConversationItem | None = dict.get(self.trace.conversation_items, item_id)
        old = self._item_group.pop(item_id, None)
        if old is not None:
            self._groups[old].discard(item_id)
            dirty_groups.add(old)
        if item is not None and item.call_id is not None:
            group = (item.thread_id, item.call_id)
            self._item_group[item_id] = group
            self._groups.setdefault(group, set()).add(item_id)
            dirty_groups.add(group)
        rerun |= self._item_readers.get(item_id, set())

    def _regroup(self, group: Group, rerun: set[Emitter]) -> None:
        members = self._groups.get(group)
        items = self.trace.conversation_items
        if members:
            self.by_call[group] = [items[item_id] for item_id in sorted(members)]
        else:
            self._groups.pop(group, None)
            self.by_call.pop(group, None)
        rerun.add((*_ANSWERED, group))
        rerun |= self._group_readers.get(group, set())

    def _call_moved(self, call_id: str, rerun: set[Emitter]) -> None:
        calls = self.trace.inference_calls
        call = dict.get(calls, call_id)
        place = self._call_place.pop(call_id, None)
        if place is not None:
            order = self._call_order[place[0]]
            index = bisect.bisect_left(order, (place[1], call_id))
            del order[index]
            if index < len(order):  # the next call extended this one
                rerun.add((*_INFERENCE, order[index][1]))
        if call is not None:
            thread, seq = call.thread_id, call.execution.started_seq
            self._call_place[call_id] = (thread, seq)
            order = self._call_order[thread]
            index = bisect.bisect_left(order, (seq, call_id))
            order.insert(index, (seq, call_id))
            if index + 1 < len(order):
                rerun.add((*_INFERENCE, order[index + 1][1]))
        old = self._responses.pop(call_id, frozenset())
        new = frozenset(call.response_item_ids) if call is not None else frozenset()
        if new:
            self._responses[call_id] = new
        for item_id in old - new:
            self._responded_by[item_id].remove(call_id)
            rerun |= self._item_readers.get(item_id, set())
        for item_id in new - old:
            bisect.insort(self._responded_by[item_id], call_id)
            rerun |= self._item_readers.get(item_id, set())

    def _interaction_changes(self) -> set[Emitter]:
        """Emitters of interaction edges that are new, gone or rebuilt since the last look.

        A snapshot copies the live edges and adds fallbacks built afresh, so an edge
        object that is not the one of the last look counts as changed; the live
        edges' in-place changes arrive as touched keys anyway.
        """
        rerun: set[Emitter] = set()
        current = self.trace.interaction_edges
        for edge_id in {*current, *self._interactions}:
            if current.get(edge_id) is not self._interactions.get(edge_id):
                rerun.add((*_INTERACTION, edge_id))
                rerun |= {(*_ITEM, item) for item in self._interaction_items.get(edge_id, ())}
        self._interactions = dict(current)
        return rerun

    # --- emitters -----------------------------------------------------------------------

    def _order(self, emitter: Emitter) -> tuple[Any, ...]:
        if emitter[:2] == _ANSWERED:
            # ``project`` meets a group at its first item in key order.
            members = self._groups.get(emitter[2])
            return (*_ANSWERED, min(members) if members else "")
        return emitter

    def _run(self, emitter: Emitter) -> dict[str, tuple[str, str]]:
        """Run one emitter again; the edges (key: ends) whose contributions may have changed."""
        if len(emitter) == 4 and emitter not in self._whole:
            appended = self._append_thread_items(emitter)
            if appended is not None:
                return appended
        self.edge_data, self.dangling = {}, []
        if self._exists(emitter):
            self._emit(emitter)
        new = self.edge_data
        old = self._outputs.pop(emitter, None)
        touched = {key: (u, v) for key, (u, v, _) in new.items()}
        if old is not None:
            for key, (u, v, _) in old.edges.items():
                if key not in new:
                    touched[key] = (u, v)
                    self._edge_emitters[key].discard(emitter)
        for key in new:
            if old is None or key not in old.edges:
                self._edge_emitters.setdefault(key, set()).add(emitter)
        if new or self.dangling:
            self._outputs[emitter] = _Output(new, self.dangling)
        if self.dangling:
            self._with_dangling.add(emitter)
        else:
            self._with_dangling.discard(emitter)
        return touched

    def _append_thread_items(self, emitter: Emitter) -> dict[str, tuple[str, str]] | None:
        """A thread's item list that only grew: emit the new positions' edges onto what
        the emitter gave before (a long thread is not walked again). ``None`` when the
        list changed otherwise, or left dangling references: run the emitter whole."""
        thread_id = emitter[2]
        thread = dict.get(self.trace.threads, thread_id)
        seen = self._thread_items.pop(thread_id, None)
        if thread is None:
            return None
        ids = thread.conversation_item_ids
        self._thread_items[thread_id] = list(ids)
        old = self._outputs.get(emitter)
        if old is None or seen is None or old.dangling or ids[:len(seen)] != seen:
            return None
        if len(ids) == len(seen):
            return {}
        self.edge_data, self.dangling = old.edges, []
        before = len(old.edges)
        self.thread_item_edges(thread, len(seen))
        # Dicts keep insertion order: the new edges are the last ones.
        new_keys = islice(reversed(old.edges), len(old.edges) - before)
        added = {key: (old.edges[key][0], old.edges[key][1]) for key in new_keys}
        for key in added:
            self._edge_emitters.setdefault(key, set()).add(emitter)
        if self.dangling:
            old.dangling = self.dangling
            self._with_dangling.add(emitter)
        return added

    def _exists(self, emitter: Emitter) -> bool:
        step, ident = emitter[:2], emitter[2]
        if emitter == _HEAD:
            return True
        if step == _ANSWERED:
            return ident in self.by_call
        name = next(name for name, steps in _OWNED.items() if step in steps)
        return ident in getattr(self.trace, name)

    def _emit(self, emitter: Emitter) -> None:
        t = self.trace
        step, ident = emitter[:2], emitter[2]
        if emitter == _HEAD:
            self.rollout_edges()
        elif len(emitter) == 4:
            self.thread_item_edges(t.threads[ident])
        elif step == _THREAD:
            self.thread_own_edges(t.threads[ident])
        elif step == _TURN:
            self.turn_edges(t.codex_turns[ident])
        elif step == _ITEM:
            self._item_emitter(t.conversation_items[ident])
        elif step == _ANSWERED:
            self.answered_edges(self.by_call[ident])
        elif step == _INFERENCE:
            call = t.inference_calls[ident]
            self.inference_edges(call, self._extends(call))
        elif step in (_TOOL_STARTED, _CELL_STARTED):
            self._started_emitter(emitter)
        elif step == _TOOL:
            self.tool_edges(t.tool_calls[ident])
        elif step == _CELL:
            self.cell_edges(t.code_cells[ident])
        elif step == _SESSION:
            self.session_edges(t.terminal_sessions[ident])
        elif step == _OPERATION:
            self.operation_edges(t.terminal_operations[ident])
        elif step == _COMPACTION:
            self.compaction_edges(t.compactions[ident])
        elif step == _REQUEST:
            self.compaction_request_edges(t.compaction_requests[ident])
        elif step == _INTERACTION:
            self.interaction_edges(t.interaction_edges[ident])
        elif step == _PAYLOAD:
            self.payload_edges(ident)

    def _item_emitter(self, item: ConversationItem) -> None:
        self.item_edges(item)
        names = tuple(producer.edge_id for producer in item.produced_by
                      if isinstance(producer, InteractionEdgeProducer))
        for edge_id in self._item_interactions.pop(item.item_id, ()):
            self._interaction_items[edge_id].discard(item.item_id)
        if names:
            self._item_interactions[item.item_id] = names
            for edge_id in names:
                self._interaction_items[edge_id].add(item.item_id)

    def _extends(self, call: Any) -> Any:
        """The call whose input ``call`` extends (delta form), as ``project`` finds it."""
        if self.form is not RequestInputForm.DELTA:
            return None
        order = self._call_order[call.thread_id]
        index = bisect.bisect_left(order, (call.execution.started_seq, call.inference_call_id))
        if index == 0:
            return None
        before = self.trace.inference_calls[order[index - 1][1]]
        return before if extends_input(before, call) else None

    def _started_emitter(self, emitter: Emitter) -> None:
        t = self.trace
        if emitter[:2] == _TOOL_STARTED:
            tool = t.tool_calls[emitter[2]]
            target = (Label.TOOL_CALL, tool.tool_call_id)
            items = self.tool_call_items(tool)
            thread, call_id = tool.thread_id, tool.model_visible_call_id
        else:
            cell = t.code_cells[emitter[2]]
            target = (Label.CODE_CELL, cell.code_cell_id)
            items = self.cell_call_items(cell)
            thread, call_id = cell.thread_id, cell.model_visible_call_id
        group = (thread, call_id) if call_id is not None else None
        self._forget_reads(emitter)
        self._started_reads[emitter] = (group, tuple(items))
        if group is not None:
            self._group_readers[group].add(emitter)
        for item_id in items:
            self._item_readers[item_id].add(emitter)
        self.started_edges(target, items, self._responded_by)

    def _forget_reads(self, emitter: Emitter) -> None:
        group, items = self._started_reads.pop(emitter, (None, ()))
        if group is not None:
            self._group_readers[group].discard(emitter)
        for item_id in items:
            self._item_readers[item_id].discard(emitter)

    # --- merging ------------------------------------------------------------------------

    def _merge(self, touched: dict[str, tuple[str, str]], diff: GraphDiff) -> None:
        """Merge each edge again from its emitters (in projection order) into the graph."""
        graph, outputs = self.graph, self._outputs
        added: list[tuple[str, str, str, dict[str, Any]]] = []
        for key, (u, v) in touched.items():
            found = edge_attrs(graph, u, v, key)
            emitters = self._edge_emitters.get(key)
            if not emitters:
                self._edge_emitters.pop(key, None)
                if found is not None:
                    diff.removed_edges.append(((u, v, key), str(found.get("label"))))
                    graph.remove_edge(u, v, key)
                continue
            if len(emitters) == 1:
                data = merge_edge_data([outputs[next(iter(emitters))].edges[key][2]])
            else:
                data = merge_edge_data([outputs[emitter].edges[key][2]
                                        for emitter in sorted(emitters, key=self._order)])
            if found is None:
                added.append((u, v, key, data))
            elif found != data:
                found.clear()
                found.update(data)
            else:
                continue
            diff.edges.append((u, v, key))
        insert_edges(graph, added)

    def _dangling(self) -> list[str]:
        found: list[str] = []
        for emitter in sorted(self._with_dangling, key=self._order):
            found.extend(self._outputs[emitter].dangling)
        return list(dict.fromkeys(found))
