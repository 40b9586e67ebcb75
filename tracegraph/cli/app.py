"""The ``tracegraph`` Typer application; each ``cmd_*`` module adds its commands."""

from __future__ import annotations

import typer

__all__ = ["app"]


app = typer.Typer(
    name="tracegraph",
    help="Turn Codex rollout-trace bundles into a typed causal graph you can query.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
