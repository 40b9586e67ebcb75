"""The typed graph of one grouped rollout of session files.

Labels, edge types and attribute names are the graph schema's
(:mod:`tracegraph.graph.schema`), so the canned queries, GraphML and the Neo4j
exporter work unchanged. Every edge is ``provenance: derived`` with the session
rules of :data:`~tracegraph.graph.schema.SESSION_RULES` in ``derived_by``.
What a session file does not record is left out: request snapshots (no
PROMPTED edges), raw payloads, inference start times, nested code-mode calls.

``started_seq``/``ended_seq`` are the rollout-wide line order: the own lines of
every thread sorted by their timestamps (ties by thread, then line).

The modules import one way: :mod:`.vocabulary` (record types, value helpers) <-
:mod:`.builder` (the graph, state shared by threads) <- :mod:`.turns` <-
:mod:`.tools`, :mod:`.inference` <- :mod:`.thread` <- :mod:`.rollout` <- here.
"""

from __future__ import annotations

import networkx as nx

from tracegraph.graph.session.rollout import build_rollout
from tracegraph.sessions.group import RolloutGroup

__all__ = ["project_session_rollout"]


def project_session_rollout(group: RolloutGroup) -> nx.MultiDiGraph:
    """The typed graph of one rollout grouped from session files (see this module)."""
    return build_rollout(group)
