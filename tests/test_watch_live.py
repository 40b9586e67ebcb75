"""The live projection a watched bundle keeps equals a fresh projection after every look.

Fed the example bundles line by line (and a long generated rollout in uneven
chunks), :class:`~tracegraph.watch.live.LiveProjection` must hold exactly
``project(trace)`` of the same snapshot after each update (nodes, edges, their
attributes, the graph's attributes), and its diff must name exactly what
:func:`~tracegraph.watch.diff_graphs` finds between the two full projections.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from benchmarks.long_rollout import write_long_rollout
from tests.test_watch import BUNDLE_NAMES, BUNDLES, append, empty_bundle, log_lines
from tracegraph.graph import project
from tracegraph.model.conversation import InteractionEdgeProducer
from tracegraph.model.rollout import MAP_FIELDS, RolloutTrace
from tracegraph.model.runtime import ConversationItemAnchor
from tracegraph.reducer import replay
from tracegraph.watch import GraphDiff, IncrementalReplay, diff_graphs
from tracegraph.watch.live import LiveProjection


def contents(graph: nx.MultiDiGraph) -> tuple[dict[str, Any], dict[Any, Any], dict[str, Any]]:
    return (dict(graph.nodes(data=True)),
            {(u, v, k): data for u, v, k, data in graph.edges(keys=True, data=True)},
            dict(graph.graph))


def diff_sets(diff: GraphDiff) -> tuple[set[Any], ...]:
    return (set(diff.nodes), set(diff.edges), set(diff.removed_nodes),
            {(ref, label) for ref, label in diff.removed_edges})


class Follower:
    """A replay and its live projection, checked against full projections at each look."""

    def __init__(self, bundle: Path, *, dialect: str, full_snapshots: bool = False) -> None:
        self.replay = IncrementalReplay(bundle, dialect=dialect, track_changes=True)
        self.full_snapshots = full_snapshots
        self.live: LiveProjection | None = None
        self.previous = nx.MultiDiGraph()

    def look(self, where: str, *, partial: bool = False) -> None:
        trace = self.replay.snapshot().trace.with_partial(partial)
        changes = self.replay.take_changes()
        if self.live is None:
            self.live = LiveProjection(trace, full_snapshots=self.full_snapshots)
        diff = self.live.update(trace, changes)
        expected = project(trace, full_snapshots=self.full_snapshots)
        assert contents(self.live.graph) == contents(expected), where
        assert diff_sets(diff) == diff_sets(diff_graphs(self.previous, expected)), where
        self.previous = expected


@pytest.mark.parametrize("name", BUNDLE_NAMES)
@pytest.mark.parametrize("full_snapshots", [False, True], ids=["delta", "full-snapshot"])
def test_live_projection_equals_a_fresh_one_after_every_line(
        tmp_path: Path, name: str, full_snapshots: bool) -> None:
    dialect = replay(BUNDLES / name).dialect.value
    bundle = empty_bundle(tmp_path, name)
    follower = Follower(bundle, dialect=dialect, full_snapshots=full_snapshots)
    follower.look("empty log")
    for number, line in enumerate(log_lines(name), start=1):
        append(bundle, line)
        follower.replay.apply(number, line.rstrip(b"\n"))
        follower.look(f"{name} line {number}", partial=number % 7 == 3)
    follower.look(f"{name} again")
    # Told nothing about what changed, it looks at everything, and finds nothing new.
    assert follower.live is not None
    assert not follower.live.update(follower.replay.snapshot().trace, None)
    assert contents(follower.live.graph) == contents(follower.previous)


def test_live_projection_of_a_long_rollout_fed_in_uneven_chunks(tmp_path: Path) -> None:
    source = tmp_path / "source"
    write_long_rollout(source, 40)
    lines = (source / "trace.jsonl").read_bytes().splitlines(keepends=True)
    bundle = tmp_path / "bundle"
    shutil.copytree(source, bundle)
    (bundle / "trace.jsonl").write_bytes(b"")
    follower = Follower(bundle, dialect="auto")
    number, step = 0, 1
    while number < len(lines):
        for line in lines[number:number + step]:
            number += 1
            append(bundle, line)
            follower.replay.apply(number, line.rstrip(b"\n"))
        follower.look(f"long rollout line {number}")
        step = step % 13 + 4


def shuffled_entries(trace: RolloutTrace, seed: int, last: tuple[str, ...] = ()
                     ) -> list[tuple[str, str]]:
    """Every (map, key) of ``trace`` in a random order, those of the ``last`` maps at the end
    (so what depends on them is complete, not dangling, when they arrive)."""
    entries = [(name, key) for name in MAP_FIELDS for key in getattr(trace, name)]
    random.Random(seed).shuffle(entries)
    return sorted(entries, key=lambda entry: entry[0] in last)


@pytest.mark.parametrize("name", ["code-mode", "multi-agent", "upstream-agents"])
@pytest.mark.parametrize("last", [(), ("inference_calls",), ("tool_calls", "code_cells"),
                                  ("interaction_edges",)],
                         ids=["any", "calls-last", "tools-last", "interactions-last"])
def test_live_projection_follows_objects_added_and_removed_in_any_order(
        name: str, last: tuple[str, ...]) -> None:
    """Objects arriving in any order (a call before the one it extends, a tool before its
    call items, an item before the interaction edge that produced it) and leaving again:
    every dependency path, not only the ones a real log takes."""
    final = replay(BUNDLES / name).trace
    for edge in final.interaction_edges.values():
        # No example names an interaction edge as an item's producer; the model allows it.
        anchor = edge.target
        if isinstance(anchor, ConversationItemAnchor):
            final.conversation_items[anchor.item_id].produced_by.append(
                InteractionEdgeProducer(edge_id=edge.edge_id))
    trace = final.model_copy(update={field: {} for field in MAP_FIELDS})
    live = LiveProjection(trace)
    live.update(trace, None)
    previous = project(trace)
    steps = [(entry, True) for entry in shuffled_entries(final, 1, last)]
    steps += [(entry, False) for entry in shuffled_entries(final, 2, last)[::-1]]
    for number, ((field, key), adding) in enumerate(steps):
        objects = getattr(trace, field)
        if adding:
            objects[key] = getattr(final, field)[key].model_copy(deep=True)
        else:
            del objects[key]
        diff = live.update(trace, {field: {key}})
        expected = project(trace)
        assert contents(live.graph) == contents(expected), (number, field, key, adding)
        assert diff_sets(diff) == diff_sets(diff_graphs(previous, expected)), number
        previous = expected
