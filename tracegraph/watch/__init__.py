"""Follow a directory of growing trace bundles into Neo4j or GraphML files.

    from tracegraph.watch import GraphmlSink, Watcher

    watcher = Watcher(Path("/tmp/traces"), GraphmlSink(Path("/tmp/graphs")))
    watcher.run(idle_exit=5)     # or watcher.sync() for one look

See :mod:`tracegraph.watch.watcher` for what a look does.
"""

from tracegraph.watch.diff import GraphDiff, diff_graphs
from tracegraph.watch.incremental import IncrementalReplay
from tracegraph.watch.sinks import GraphmlSink, Neo4jSink, Sink, WriteResult, write_graph_changes
from tracegraph.watch.tail import LogTail, TailRead
from tracegraph.watch.watcher import BundleStatus, Watcher

__all__ = [
    "BundleStatus",
    "GraphDiff",
    "GraphmlSink",
    "IncrementalReplay",
    "LogTail",
    "Neo4jSink",
    "Sink",
    "TailRead",
    "Watcher",
    "WriteResult",
    "diff_graphs",
    "write_graph_changes",
]
