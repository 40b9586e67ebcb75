"""Pictures of a rollout: the self-contained HTML view and static matplotlib plots.

    from tracegraph.graph import load_graph
    from tracegraph.views import extract, write_html, plot_timeline

    view = extract(load_graph("examples/bundles/multi-agent"))
    write_html(view, "multi-agent.html")     # timeline, agent tree, causal chains
    plot_timeline(view)                       # a matplotlib Figure

Views read only the projected graph (labels and attributes of
:mod:`tracegraph.graph.schema`), so bundles, state files and GraphML all work.
"""

from tracegraph.views.extract import Span, TraceView, ViewError, extract
from tracegraph.views.html import DEFAULT_MAX_BARS, render_html, view_data, write_html
from tracegraph.views.plots import (
    PLOT_KINDS,
    plot,
    plot_agents,
    plot_timeline,
    plot_tokens,
    write_plot,
)

__all__ = [
    "DEFAULT_MAX_BARS",
    "PLOT_KINDS",
    "Span",
    "TraceView",
    "ViewError",
    "extract",
    "plot",
    "plot_agents",
    "plot_timeline",
    "plot_tokens",
    "render_html",
    "view_data",
    "write_html",
    "write_plot",
]
