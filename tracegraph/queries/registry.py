"""The registry of canned queries: names, parameters, descriptions, implementations.

Each query has a networkx implementation here and a Cypher twin in
``cypher/<name>.cypher``; both return the same rows, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from tracegraph.graph.schema import SESSION_GAPS, Label, Rel, Source, sources_of
from tracegraph.queries import agents, causality, reports, rollouts
from tracegraph.queries._walk import QueryError, Row, Walk

__all__ = [
    "QUERIES",
    "CannedQuery",
    "QueryParam",
    "get_query",
    "list_queries",
    "run_query",
    "to_dataframe",
]


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    description: str
    type: type = str
    required: bool = True
    default: Any = None


@dataclass(frozen=True, slots=True)
class CannedQuery:
    """A named question with parameters and a row-returning implementation."""

    name: str
    description: str
    run: Callable[..., list[Row]]
    params: tuple[QueryParam, ...] = field(default=())
    #: Column names, in output order.
    columns: tuple[str, ...] = field(default=())
    #: Edge types the answer is built from; a graph whose sources cannot produce
    #: one of them (session rollout files: request snapshots) gets an error, not rows.
    needs: tuple[Rel, ...] = field(default=())

    def check_sources(self, sources: set[str | None]) -> None:
        """Refuse, in one line, to answer from graphs that cannot hold what this needs."""
        if not sources or Source.SESSION_ROLLOUT.value not in sources or len(sources) > 1:
            return
        for rel in self.needs:
            if Source.SESSION_ROLLOUT not in sources_of(rel):
                raise QueryError(
                    f"query {self.name} needs {rel.value} edges, which Codex session rollout "
                    f"files cannot give (they do not record {SESSION_GAPS[rel]})"
                )

    def bind(self, args: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        """Match positional (CLI) and keyword arguments to parameters, converting types."""
        values: dict[str, Any] = {}
        positional = list(args or [])
        for param in self.params:
            raw = kwargs.pop(param.name, None)
            if raw is None and positional:
                raw = positional.pop(0)
            if raw is None:
                if param.required:
                    raise QueryError(
                        f"query {self.name} needs {param.name.upper()} ({param.description})"
                    )
                raw = param.default
            values[param.name] = self._convert(param, raw)
        if positional:
            raise QueryError(f"query {self.name} takes {len(self.params)} argument(s), "
                             f"got extra {' '.join(positional)}")
        if kwargs:
            raise QueryError(f"query {self.name} has no parameter {', '.join(sorted(kwargs))}")
        return values

    def _convert(self, param: QueryParam, raw: Any) -> Any:
        """Check a value's type; CLI strings are converted, nothing else is coerced."""
        if param.type is int:
            if isinstance(raw, str) and raw.strip().lstrip("+-").isdigit():
                return int(raw)
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
        elif isinstance(raw, param.type):
            return raw
        raise QueryError(
            f"query {self.name}: {param.name.upper()} must be a {param.type.__name__}, got {raw!r}"
        )

    def __call__(self, graph: nx.MultiDiGraph, *, trace: str | None = None,
                 **params: Any) -> list[Row]:
        bound = self.bind(**params)
        walk = Walk(graph, trace)
        self.check_sources({walk.get(node, "source") for node in walk.nodes(Label.ROLLOUT)})
        rows = self.run(walk, **bound)
        return [{column: row.get(column) for column in self.columns} for row in rows]


def _q(name: str, description: str, run: Callable[..., list[Row]], columns: str,
       *params: QueryParam, needs: tuple[Rel, ...] = ()) -> CannedQuery:
    return CannedQuery(name, description, run, tuple(params), tuple(columns.split()), needs)


QUERIES: dict[str, CannedQuery] = {query.name: query for query in (
    _q("inference-for-terminal-op",
       "The inference call whose response started the tool behind a terminal operation "
       "(through its code cell when nested).",
       causality.inference_for_terminal_op,
       "operation_id tool_call_id code_cell_id source_item_id inference_call_id thread_id "
       "codex_turn_id model",
       QueryParam("operation", "terminal operation id, e.g. terminal_operation:1")),
    _q("causal-chain",
       "The chain of causes from any object back to the input that triggered it.",
       causality.causal_chain,
       "step label object_id via status",
       QueryParam("node", "node key, or an object id unique in the graph")),
    _q("tool-calls-of-inference",
       "Every tool call an inference's response started, directly or through code cells, "
       "with terminal operations and status.",
       causality.tool_calls_of_inference,
       "tool_call_id tool_name code_cell_id status terminal_operation_id terminal_id command "
       "exit_code",
       QueryParam("inference", "inference call id")),
    _q("agent-tree",
       "Threads with parent/child, task name, role, status, spawn and result edges.",
       agents.agent_tree,
       "thread_id agent_path parent_thread_id task_name agent_role status spawn_tool_call_id "
       "spawn_edge_id spawn_target result_edge_ids"),
    _q("agent-result-path",
       "From a child thread's results to the parent items that received them, and the tool "
       "call that spawned the child.",
       agents.agent_result_path,
       "edge_id child_thread_id source_item_id target_item_id parent_thread_id "
       "spawn_tool_call_id",
       QueryParam("thread", "child thread id")),
    _q("failed-operations",
       "Failed, cancelled or aborted inference calls, tool calls, terminal operations and code "
       "cells, with the inference that caused them and their thread.",
       reports.failed_operations,
       "label object_id status thread_id causing_inference_call_id started_seq"),
    _q("failures",
       "Everything the load summary counts as a failure: failed, cancelled or aborted objects "
       "of any kind, failed or terminated code cells, terminal operations with a non-zero "
       "exit code; with the reason and what the object was.",
       reports.failures,
       "trace_id label object_id reason detail started_seq"),
    _q("terminal-history",
       "Operations on a terminal session in seq order: command or stdin, exit code, tool call "
       "and inference.",
       reports.terminal_history,
       "operation_id kind started_seq command stdin exit_code status tool_call_id "
       "inference_call_id",
       QueryParam("terminal", "terminal (process/session) id")),
    _q("transcript",
       "A thread's conversation items in transcript order.",
       reports.transcript,
       "position item_id role kind channel preview",
       QueryParam("thread", "thread id")),
    _q("item-provenance",
       "What produced a conversation item and which inference requests and responses carried it.",
       causality.item_provenance,
       "relation label object_id position producer_type",
       QueryParam("item", "conversation item id, e.g. conversation_item:3")),
    _q("request-input",
       "The whole ordered input of an inference request: one row per position with the "
       "item's id (its request_item_ids), in either form of the graph.",
       causality.request_input_rows,
       "position item_id",
       QueryParam("inference", "inference call id"), needs=(Rel.PROMPTED,)),
    _q("compactions",
       "Each compaction with its requests and their status, input and replacement item counts.",
       reports.compactions,
       "compaction_id thread_id installed_at_unix_ms request_ids request_statuses "
       "failed_requests input_items replacement_items marker_item_id"),
    _q("token-usage",
       "Token totals by thread, turn and model.",
       reports.token_usage,
       "thread_id codex_turn_id model inference_calls input_tokens cached_input_tokens "
       "output_tokens reasoning_output_tokens"),
    _q("slowest",
       "The N longest inference calls, tool calls and terminal operations (N of each).",
       reports.slowest,
       "label object_id duration_ms status started_seq",
       QueryParam("n", "how many of each", int, required=False, default=10)),
    _q("rollout-overview",
       "One row per rollout: threads, turns, inference calls, tool calls, failures (the rows "
       "of failed-operations), token totals and wall time.",
       rollouts.rollout_overview,
       "trace_id rollout_id status threads turns inference_calls tool_calls failures "
       "input_tokens cached_input_tokens output_tokens reasoning_output_tokens wall_time_ms"),
    _q("tool-failures",
       "Tool calls by kind and name over every rollout: calls, failures, non-zero exits, "
       "rollouts and failure rate, the worst rate first.",
       rollouts.tool_failures,
       "kind tool_name calls failures nonzero_exits rollouts failure_rate"),
    _q("slowest-commands",
       "The N longest terminal operations over every rollout, with their rollout and thread.",
       rollouts.slowest_commands,
       "trace_id rollout_id thread_id agent_path operation_id kind command stdin duration_ms "
       "exit_code status",
       QueryParam("n", "how many", int, required=False, default=10)),
)}


def list_queries() -> list[CannedQuery]:
    return list(QUERIES.values())


def get_query(name: str) -> CannedQuery:
    try:
        return QUERIES[name]
    except KeyError:
        raise QueryError(
            f"unknown query {name!r} (known: {', '.join(QUERIES)})"
        ) from None


def run_query(graph: nx.MultiDiGraph, name: str, *, trace: str | None = None,
              **params: Any) -> list[Row]:
    """Run a canned query on a graph; rows are dicts in a stable order."""
    return get_query(name)(graph, trace=trace, **params)


def to_dataframe(rows: list[Row], columns: tuple[str, ...] | None = None) -> Any:
    """Rows as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise QueryError("to_dataframe needs pandas: pip install pandas") from err
    return pd.DataFrame(rows, columns=list(columns) if columns else None)
