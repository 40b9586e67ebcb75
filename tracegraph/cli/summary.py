"""The summaries ``load`` prints: graph counts, threads, failures; a Neo4j load."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

# The module, not its consoles: tests (and callers) may replace `terminal.stdout`.
from tracegraph.cli import console as terminal

if TYPE_CHECKING:

    from tracegraph.neo4j import ExportSummary

__all__ = [
    "SUMMARY_FAILURES",
    "print_export_summary",
    "print_graph_summary",
    "render_graph_summary",
]


#: Failures the load summary shows; the rest are counted and left to `query failures`.
SUMMARY_FAILURES = 10


def print_graph_summary(summary: dict[str, Any], graph_file: Path | None = None,
                        console: Console | None = None) -> None:
    """Print counts, threads and the first failures; ``graph_file`` (the GraphML just
    written) is named in the command that lists every failure."""
    out = console or terminal.stdout
    counts = Table(title="graph")
    counts.add_column("kind")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for label, count in summary["nodes"].items():
        counts.add_row("node", label, str(count))
    # Session-rollout graphs derive every edge type, so ask the graph, not the schema.
    derived_types = set(summary.get("derived_edges", ()))
    for name, count in summary["edges"].items():
        if count:
            derived = " (derived)" if name in derived_types else ""
            counts.add_row("edge", f"{name}{derived}", str(count))
    counts.add_row("total", "nodes / edges", f"{summary['node_count']} / {summary['edge_count']}")
    out.print(counts)

    threads = Table(title="threads")
    threads.add_column("agent path (nickname)")
    threads.add_column("status")
    for column in ("turns", "items", "inferences", "tools"):
        threads.add_column(column, justify="right")
    for thread in summary["threads"]:
        nickname = f" ({thread['nickname']})" if thread["nickname"] else ""
        threads.add_row(
            f"{thread['agent_path']}{nickname}", str(thread["status"]),
            str(thread["turns"]), str(thread["items"]), str(thread["inference_calls"]),
            str(thread["tool_calls"]),
        )
    out.print(threads)

    if summary["failures"]:
        total = len(summary["failures"])
        failures = Table(title="failures" if total <= SUMMARY_FAILURES
                         else f"failures (first {SUMMARY_FAILURES} of {total})")
        # The id is what to look up next: shown whole; the command line gives way.
        failures.add_column("object", no_wrap=True)
        failures.add_column("id", no_wrap=True, min_width=len("terminal_operation:000"))
        failures.add_column("reason")
        failures.add_column("detail", overflow="ellipsis", ratio=1)
        for failure in summary["failures"][:SUMMARY_FAILURES]:
            failures.add_row(failure["label"], str(failure["object_id"]), failure["reason"],
                             failure["detail"] or "")
        out.print(failures)
        if total > SUMMARY_FAILURES:
            source = str(graph_file) if graph_file is not None else "SOURCE"
            out.print(f"... and {total - SUMMARY_FAILURES} more failures; list them all with: "
                         f"tracegraph query failures --bundle {source}",
                         markup=False, highlight=False, soft_wrap=True)
    else:
        out.print("failures: none", markup=False, highlight=False)
    if summary["dangling_references"]:
        out.print(f"dangling references: {summary['dangling_references']} "
                     "(references to objects missing from the trace)",
                     markup=False, highlight=False)


def render_graph_summary(summary: dict[str, Any], graph_file: Path | None = None) -> str:
    """What :func:`print_graph_summary` prints, as text: ``load --jobs`` workers render
    it (rich tables cost more than reducing a small bundle)."""
    buffer = io.StringIO()
    shown = terminal.stdout
    console = Console(file=buffer, width=shown.width, force_terminal=shown.is_terminal,
                      no_color=shown.no_color, soft_wrap=False)
    print_graph_summary(summary, graph_file, console)
    return buffer.getvalue()


#: Trace ids a load's last line names; a load of many rollouts says how many more.
_TRACES_SHOWN = 3


def print_export_summary(summary: ExportSummary, uri: str, database: str | None) -> None:
    table = Table(title=f"Neo4j {uri}" + (f" (database {database})" if database else ""))
    for column in ("", "in graph", "created", "updated", "unchanged", "deleted"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("nodes", str(summary.nodes), str(summary.nodes_created),
                  str(summary.nodes_updated), str(summary.nodes_unchanged),
                  str(summary.nodes_deleted))
    table.add_row("relationships", str(summary.relationships),
                  str(summary.relationships_created), str(summary.relationships_updated),
                  str(summary.relationships_unchanged), str(summary.relationships_deleted))
    terminal.stdout.print(table)
    shown = summary.trace_ids[:_TRACES_SHOWN]
    traces = ", ".join(shown) + (f", and {len(summary.trace_ids) - len(shown)} more"
                                 if len(summary.trace_ids) > len(shown) else "")
    terminal.stdout.print(
        f"loaded {len(summary.trace_ids)} trace(s) ({traces}) in {summary.batches} "
        f"batch{'es' if summary.batches != 1 else ''}, "
        f"{summary.seconds:.1f} s ({summary.elements_per_second:,.0f} nodes+relationships/s)",
        markup=False, highlight=False, soft_wrap=True,
    )
