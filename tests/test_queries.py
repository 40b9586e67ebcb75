"""The canned queries, checked against answers worked out by hand from the example bundles.

Every expected row below was derived by reading the bundle itself (its
``trace.jsonl`` events by ``seq``, the raw ``payloads/N.json`` and the golden
``state.json``), never by running the query and pasting its output. The comment
above each literal says where its values come from. Rows are written as tuples
in the column order of :data:`COLUMNS` (which is itself checked against the
registry) and turned into dicts by :func:`expect`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tracegraph.graph import compose_graphs, load_graph
from tracegraph.queries import (
    QUERIES,
    QueryError,
    get_query,
    list_queries,
    run_query,
    to_dataframe,
)

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLE_NAMES = ("terminal-reuse", "code-mode", "multi-agent", "compaction", "upstream-interrupt")
MODEL = "gpt-5-codex"

# --- ids, copied from the bundles -------------------------------------------

# terminal-reuse (manifest.json, trace.jsonl seq 2/4/24 and the tool_call_started events)
TR_TRACE = "4e8b2f71-3c6d-4a9e-b1f0-7d5c2a8e6b93"
TR_THREAD = "019dbf3a-5c2e-7d41-b8a6-0f3e9c1d2a47"
TR_TURN1 = "019dbf3a-6a10-7c02-9e55-41b7d0a3c9e1"
TR_TURN2 = "019dbf3c-0b7d-7f19-8d2c-6e0a5b4f3d18"
TR_EXEC_PY = "call_4AOP5n3FRWQnwKKGjM0VCUrd"  # seq 7: exec_command python3 -q (pid 37451)
TR_WRITE_IMPORT = "call_rF8VVrk9Kg86QlCNazQB3mwY"  # seq 13: write_stdin "import sys, ..."
TR_WRITE_EXIT = "call_ewavsLpCFGkbfyo9T3lDuXyh"  # seq 17: write_stdin "exit()"
TR_EXEC_BASH = "call_lHeDhlwa8Rh7B1a6E7LEq0PE"  # seq 28: exec_command bash (pid 52310)
TR_WRITE_PYTEST = "call_yh9f40vfUpPxzVhXNNQ0cTIQ"  # seq 33: write_stdin pytest

# code-mode
CM_TRACE = "b7d14c09-2e6a-4f38-9c51-0a8e3f6d2b75"
CM_THREAD = "019dbfa1-2d4c-7b86-a1f3-5e9c0d7b2c64"
CM_TURN1 = "019dbfa1-3e05-7a9d-8c41-b2f6e1a0d953"
CM_TURN2 = "019dbfa4-71c8-7e22-b5d0-9a3c4f1e8b06"
CM_CELL1 = "code_cell:call_h3d13XvgywFAgYaRovabBme2"  # seq 7: runtime cell 1
CM_CELL2 = "code_cell:call_Fh1iyvrpUffyJarFTTUOz4r6"  # seq 35: runtime cell 2
CM_WAIT = "call_1vJvZOPJJp5So9sfOmVeVcza"  # seq 22: wait {"cell_id": "1"}

# multi-agent
MA_ROOT = "019dc002-8a1b-7c3d-9e4f-5a6b7c8d9e0f"
MA_CHILD = "019dc003-1f2e-7d3c-8b4a-596877a6b5c4"  # seq 10: /root/loc_counter
MA_ROOT_TURN = "019dc002-9b20-7411-a3c6-d8e9f0a1b2c3"
MA_CHILD_TURN1 = "019dc003-2a31-7522-b4d7-e9f0a1b2c3d4"
MA_CHILD_TURN2 = "019dc005-3b42-7633-85e8-fa01b2c3d4e5"
MA_SPAWN = "call_tyQAea8C4nojp9RiKd06LLxP"  # seq 8: spawn_agent
MA_SEND = "call_16pCNC6uS0Snx9u3rvQlsD0a"  # seq 20: send_message
MA_TOKEI = "call_PcF8Go2pv6oHVxrIlMBzsCh3"  # seq 24: child exec_command tokei
MA_TESTLINES = "call_tOOwB04HUmbRzPCM3FICgKMj"  # seq 34: child exec_command test lines
MA_SPAWN_EDGE = f"edge:spawn:{MA_ROOT}:{MA_CHILD}"  # child origin.spawn_edge_id
# agent_result_observed edge ids, seq 42 and seq 57
MA_RESULT1 = f"edge:agent_result:{MA_CHILD}:{MA_CHILD_TURN1}:{MA_ROOT}"
MA_RESULT2 = f"edge:agent_result:{MA_CHILD}:{MA_CHILD_TURN2}:{MA_ROOT}"

# compaction
CP_THREAD = "019dc06b-4c3d-7e2f-a1b0-c9d8e7f6a5b4"
CP_TURN1 = "019dc06b-5d4e-7f30-b2c1-dae9f8a7b6c5"
CP_TURN2 = "019dc06e-6e5f-7041-83d2-ebfa09b8c7d6"
CP_TURN3 = "019dc075-7f60-7152-94e3-fc0b1ac9d8e7"
CP_COMPACTION = "7c1e9a52-3f4b-4d6e-8a0c-5b2d9e1f7a36"  # seq 30-34
CP_RG = "call_fB00jcnTzQ3RiiDrRaZxTAED"  # seq 8: exec_command rg

# upstream-interrupt
UP_ROOT = "019e8c4a-7b10-7d2e-9f31-4a5b6c7d8e9f"
UP_CHILD = "019e8c4b-0c21-7e3f-8a42-5b6c7d8e9fa0"  # seq 16: /root/reviewer
UP_TURN1 = "019e8c4a-8c21-7a03-b4d5-e6f708192a3b"
UP_CHILD_TURN = "019e8c4b-1d32-7c14-95e6-f708192a3b4c"
UP_TURN2 = "019e8c4d-1e43-7b25-86f7-0819a2b3c4d5"
UP_INF_SEARCH = "9b4f8e5f-966c-4197-8777-d34b24648852"  # seq 6
UP_INF_SPAWN = "5420bba7-9f2b-48e1-ba22-aef2ed084236"  # seq 13
UP_INF_CHILD = "bf3406a5-c634-47a3-8392-19c74a8cb3ca"  # seq 22
UP_INF_CANCELLED = "1912ff75-17d5-4cb1-bebd-9dac773dffc1"  # seq 23, cancelled at seq 28
UP_INF_SUMMARY = "30f15319-7ed9-431a-9ec0-ce03b05fc8cf"  # seq 33
UP_SEARCH = "call_o3y6k8PNOhcs5H9dXiPOPyxf"  # seq 8: kind other/search
UP_SPAWN = "call_ExpTGajhJs8jPv6PktEpQF7J"  # seq 15: spawn_agent
UP_SPAWN_EDGE = f"edge:spawn:{UP_ROOT}:{UP_CHILD}"
UP_RESULT = f"edge:agent_result:{UP_CHILD}:{UP_CHILD_TURN}:{UP_ROOT}"  # seq 27

#: The columns of every query, written out here so a change to the registry shows up.
COLUMNS: dict[str, tuple[str, ...]] = {
    "inference-for-terminal-op": (
        "operation_id", "tool_call_id", "code_cell_id", "source_item_id", "inference_call_id",
        "thread_id", "codex_turn_id", "model"),
    "causal-chain": ("step", "label", "object_id", "via", "status"),
    "tool-calls-of-inference": (
        "tool_call_id", "tool_name", "code_cell_id", "status", "terminal_operation_id",
        "terminal_id", "command", "exit_code"),
    "agent-tree": (
        "thread_id", "agent_path", "parent_thread_id", "task_name", "agent_role", "status",
        "spawn_tool_call_id", "spawn_edge_id", "spawn_target", "result_edge_ids"),
    "agent-result-path": (
        "edge_id", "child_thread_id", "source_item_id", "target_item_id", "parent_thread_id",
        "spawn_tool_call_id"),
    "failed-operations": (
        "label", "object_id", "status", "thread_id", "causing_inference_call_id", "started_seq"),
    "failures": ("trace_id", "label", "object_id", "reason", "detail", "started_seq"),
    "terminal-history": (
        "operation_id", "kind", "started_seq", "command", "stdin", "exit_code", "status",
        "tool_call_id", "inference_call_id"),
    "transcript": ("position", "item_id", "role", "kind", "channel", "preview"),
    "item-provenance": ("relation", "label", "object_id", "position", "producer_type"),
    "request-input": ("position", "item_id"),
    "compactions": (
        "compaction_id", "thread_id", "installed_at_unix_ms", "request_ids", "request_statuses",
        "failed_requests", "input_items", "replacement_items", "marker_item_id"),
    "token-usage": (
        "thread_id", "codex_turn_id", "model", "inference_calls", "input_tokens",
        "cached_input_tokens", "output_tokens", "reasoning_output_tokens"),
    "slowest": ("label", "object_id", "duration_ms", "status", "started_seq"),
    "rollout-overview": (
        "trace_id", "rollout_id", "status", "threads", "turns", "inference_calls", "tool_calls",
        "failures", "input_tokens", "cached_input_tokens", "output_tokens",
        "reasoning_output_tokens", "wall_time_ms"),
    "tool-failures": (
        "kind", "tool_name", "calls", "failures", "nonzero_exits", "rollouts", "failure_rate"),
    "slowest-commands": (
        "trace_id", "rollout_id", "thread_id", "agent_path", "operation_id", "kind", "command",
        "stdin", "duration_ms", "exit_code", "status"),
}


def expect(query: str, *rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Expected rows of ``query`` from tuples in :data:`COLUMNS` order."""
    columns = COLUMNS[query]
    for row in rows:
        assert len(row) == len(columns), row
    return [dict(zip(columns, row, strict=True)) for row in rows]


def item(n: int) -> str:
    return f"conversation_item:{n}"


def op(n: int) -> str:
    return f"terminal_operation:{n}"


@pytest.fixture(scope="module")
def graphs() -> dict[str, nx.MultiDiGraph]:
    return {name: load_graph(BUNDLES / name) for name in BUNDLE_NAMES}


def q(graphs: dict[str, nx.MultiDiGraph], bundle: str, name: str,
      **params: Any) -> list[dict[str, Any]]:
    return run_query(graphs[bundle], name, **params)


def events(bundle: str) -> list[dict[str, Any]]:
    with (BUNDLES / bundle / "trace.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def payload(bundle: str, ref: dict[str, Any]) -> Any:
    return json.loads((BUNDLES / bundle / ref["path"]).read_text(encoding="utf-8"))


# --- registry shape ------------------------------------------------------------


def test_registry_lists_the_queries_with_the_documented_columns() -> None:
    assert [query.name for query in list_queries()] == list(COLUMNS)
    for name, columns in COLUMNS.items():
        assert get_query(name).columns == columns
        assert QUERIES[name].description


@pytest.mark.parametrize("bundle", BUNDLE_NAMES)
def test_rows_are_dicts_with_exactly_the_registry_columns_in_order(
        graphs: dict[str, nx.MultiDiGraph], bundle: str) -> None:
    # One valid argument per parametrized query, present in every bundle.
    args: dict[str, dict[str, Any]] = {
        "inference-for-terminal-op": {},
        "causal-chain": {},
        "tool-calls-of-inference": {},
        "agent-result-path": {},
        "terminal-history": {},
        "transcript": {},
        "item-provenance": {"item": item(4)},
    }
    graph = graphs[bundle]
    nodes = {data["label"]: data["object_id"] for _, data in graph.nodes(data=True)}
    if "TerminalOperation" in nodes:
        args["inference-for-terminal-op"] = {"operation": op(1)}
        args["terminal-history"] = {"terminal": nodes["TerminalSession"]}
    args["causal-chain"] = {"node": nodes["InferenceCall"]}
    args["tool-calls-of-inference"] = {"inference": nodes["InferenceCall"]}
    args["request-input"] = {"inference": nodes["InferenceCall"]}
    args["agent-result-path"] = {"thread": nodes["Thread"]}
    args["transcript"] = {"thread": nodes["Thread"]}
    for name, columns in COLUMNS.items():
        if name in args and not args[name]:
            continue
        rows = run_query(graph, name, **args.get(name, {}))
        assert isinstance(rows, list)
        for row in rows:
            assert type(row) is dict
            assert tuple(row) == columns, (name, row)


def test_to_dataframe_keeps_rows_and_columns(graphs: dict[str, nx.MultiDiGraph]) -> None:
    pytest.importorskip("pandas")
    rows = q(graphs, "terminal-reuse", "terminal-history", terminal="37451")
    frame = to_dataframe(rows, COLUMNS["terminal-history"])
    assert list(frame.columns) == list(COLUMNS["terminal-history"])
    assert list(frame["operation_id"]) == [op(1), op(2), op(3)]
    assert list(frame["started_seq"]) == [8, 13, 17]
    empty = to_dataframe([], COLUMNS["failed-operations"])
    assert list(empty.columns) == list(COLUMNS["failed-operations"])
    assert len(empty) == 0


# --- argument checking ---------------------------------------------------------


def test_unknown_query_name_is_a_query_error(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match=r"unknown query 'no-such-query' \(known: .*causal-chain"):
        run_query(graphs["terminal-reuse"], "no-such-query")
    with pytest.raises(QueryError, match="unknown query"):
        get_query("inference_for_terminal_op")


def test_missing_argument_names_the_parameter(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match=r"inference-for-terminal-op needs OPERATION \(terminal "
                                         r"operation id"):
        run_query(graphs["terminal-reuse"], "inference-for-terminal-op")
    with pytest.raises(QueryError, match="transcript needs THREAD"):
        run_query(graphs["terminal-reuse"], "transcript")


def test_extra_arguments_are_rejected(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="agent-tree has no parameter colour"):
        run_query(graphs["terminal-reuse"], "agent-tree", colour="red")
    with pytest.raises(QueryError, match="transcript has no parameter node"):
        run_query(graphs["terminal-reuse"], "transcript", thread=TR_THREAD, node="x")
    # Positional (CLI) arguments: one too many.
    with pytest.raises(QueryError, match=re.escape("query agent-tree takes 0 argument(s), got extra x")):
        get_query("agent-tree").bind(["x"])
    with pytest.raises(QueryError, match=re.escape("query transcript takes 1 argument(s), got extra b")):
        get_query("transcript").bind(["a", "b"])


def test_badly_typed_arguments_are_query_errors(graphs: dict[str, nx.MultiDiGraph]) -> None:
    graph = graphs["terminal-reuse"]
    with pytest.raises(QueryError, match=r"slowest: N must be a int, got 'many'"):
        run_query(graph, "slowest", n="many")
    with pytest.raises(QueryError, match="N must be a int"):
        run_query(graph, "slowest", n="2.5")
    with pytest.raises(QueryError, match="slowest needs N >= 1, got 0"):
        run_query(graph, "slowest", n=0)
    # A string that is an integer is converted, as the CLI passes every argument as text.
    assert run_query(graph, "slowest", n="1") == run_query(graph, "slowest", n=1)
    assert get_query("slowest").bind(["3"]) == {"n": 3}
    assert get_query("slowest").bind() == {"n": 10}


def test_non_numeric_object_for_an_int_parameter_is_a_query_error(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="N must be a int"):
        run_query(graphs["terminal-reuse"], "slowest", n=[1])


def test_fractional_number_for_an_int_parameter_is_a_query_error(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="N must be a int"):
        run_query(graphs["terminal-reuse"], "slowest", n=2.5)


def test_explicit_none_for_an_optional_parameter(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # Either reading is fine: None means the default (10), or it is rejected.
    graph = graphs["terminal-reuse"]
    try:
        rows = run_query(graph, "slowest", n=None)
    except QueryError:
        return
    assert rows == run_query(graph, "slowest")


def test_unknown_trace_is_a_query_error(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no-such-trace"):
        run_query(graphs["terminal-reuse"], "agent-tree", trace="no-such-trace")


# --- inference-for-terminal-op -------------------------------------------------

# terminal-reuse: every tool is requested by the model (tool_call_started
# requester {"type": "model"}); its function_call item (call_id = tool call id)
# is in exactly one inference's response_item_ids (state.json inference_calls):
#   op1 <- call_4AOP (seq 7)  item 6  in inference:1 response [5, 6]     turn 1
#   op2 <- call_rF8V (seq 13) item 9  in inference:2 response [8, 9]     turn 1
#   op3 <- call_ewav (seq 17) item 13 in inference:3 response [11,12,13] turn 1
#   op4 <- call_lHeD (seq 28) item 18 in inference:5 response [17, 18]   turn 2
#   op5 <- call_yh9f (seq 33) item 20 in inference:6 response [20]       turn 2
TR_OP_CAUSES = {
    op(1): (op(1), TR_EXEC_PY, None, item(6), "inference:1", TR_THREAD, TR_TURN1, MODEL),
    op(2): (op(2), TR_WRITE_IMPORT, None, item(9), "inference:2", TR_THREAD, TR_TURN1, MODEL),
    op(3): (op(3), TR_WRITE_EXIT, None, item(13), "inference:3", TR_THREAD, TR_TURN1, MODEL),
    op(4): (op(4), TR_EXEC_BASH, None, item(18), "inference:5", TR_THREAD, TR_TURN2, MODEL),
    op(5): (op(5), TR_WRITE_PYTEST, None, item(20), "inference:6", TR_THREAD, TR_TURN2, MODEL),
}

# code-mode: every terminal tool is nested (requester code_cell, runtime cell 1
# or 2), so the cause is the inference whose response holds the cell's
# custom_tool_call item (call_id = the cell's model_visible_call_id). Cell 1's
# source item 6 is in inference:1's response [5, 6] even though the cell and its
# first tool started (seq 7-8) before that response completed (seq 10); cell 2's
# item 14 is in inference:4's response [13, 14].
CM_OP_CAUSES = {
    op(1): (op(1), "code-mode-1-1", CM_CELL1, item(6), "inference:1", CM_THREAD, CM_TURN1,
            MODEL),
    op(2): (op(2), "code-mode-1-3", CM_CELL1, item(6), "inference:1", CM_THREAD, CM_TURN1,
            MODEL),
    op(3): (op(3), "code-mode-2-1", CM_CELL2, item(14), "inference:4", CM_THREAD, CM_TURN2,
            MODEL),
}

# multi-agent: both operations run in the child thread (seq 24, 34); their
# call items 13 and 21 are in the child's inference:2 and inference:5 responses.
# compaction: op1 <- call_fB00 (seq 8), item 6 in inference:1's response.
OTHER_OP_CAUSES = {
    ("multi-agent", op(1)): (op(1), MA_TOKEI, None, item(13), "inference:2", MA_CHILD,
                             MA_CHILD_TURN1, MODEL),
    ("multi-agent", op(2)): (op(2), MA_TESTLINES, None, item(21), "inference:5", MA_CHILD,
                             MA_CHILD_TURN1, MODEL),
    ("compaction", op(1)): (op(1), CP_RG, None, item(6), "inference:1", CP_THREAD, CP_TURN1,
                            MODEL),
}


@pytest.mark.parametrize("operation", sorted(TR_OP_CAUSES))
def test_inference_for_terminal_op_direct_tool(
        graphs: dict[str, nx.MultiDiGraph], operation: str) -> None:
    rows = q(graphs, "terminal-reuse", "inference-for-terminal-op", operation=operation)
    assert rows == expect("inference-for-terminal-op", TR_OP_CAUSES[operation])


@pytest.mark.parametrize("operation", sorted(CM_OP_CAUSES))
def test_inference_for_terminal_op_nested_in_code_cell(
        graphs: dict[str, nx.MultiDiGraph], operation: str) -> None:
    rows = q(graphs, "code-mode", "inference-for-terminal-op", operation=operation)
    assert rows == expect("inference-for-terminal-op", CM_OP_CAUSES[operation])


@pytest.mark.parametrize(("bundle", "operation"), sorted(OTHER_OP_CAUSES))
def test_inference_for_terminal_op_other_bundles(
        graphs: dict[str, nx.MultiDiGraph], bundle: str, operation: str) -> None:
    rows = q(graphs, bundle, "inference-for-terminal-op", operation=operation)
    assert rows == expect("inference-for-terminal-op", OTHER_OP_CAUSES[bundle, operation])


def test_inference_for_terminal_op_unknown_operation(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no TerminalOperation with id 'terminal_operation:6'"):
        q(graphs, "terminal-reuse", "inference-for-terminal-op", operation=op(6))
    # upstream-interrupt has no terminal operations at all.
    with pytest.raises(QueryError, match="no TerminalOperation"):
        q(graphs, "upstream-interrupt", "inference-for-terminal-op", operation=op(1))


# --- causal-chain ---------------------------------------------------------------

# terminal-reuse op5 (write_stdin pytest): executed by call_yh9f (seq 33), whose
# item 20 is inference:6's response. inference:6's last request item (position
# 18 of request_item_ids) is item 19, the output of call_lHeD (produced_by tool),
# started by inference:5, whose last request item is the turn-2 user message 16
# ("Run the parser tests ..."), which nothing produced (produced_by []).
TR_CHAIN_OP5 = expect(
    "causal-chain",
    (0, "TerminalOperation", op(5), None, "completed"),
    (1, "ToolCall", TR_WRITE_PYTEST, "EXECUTED", "completed"),
    (2, "InferenceCall", "inference:6", "STARTED", "completed"),
    (3, "ConversationItem", item(19), "PROMPTED", None),
    (4, "ToolCall", TR_EXEC_BASH, "PRODUCED", "completed"),
    (5, "InferenceCall", "inference:5", "STARTED", "completed"),
    (6, "ConversationItem", item(16), "PROMPTED", None),
)

# terminal-reuse op1: call_4AOP <- inference:1, whose request is items 1-4; the
# last is the turn-1 user message 4 ("The flaky `orbit_sim` parser test ...").
TR_CHAIN_OP1 = expect(
    "causal-chain",
    (0, "TerminalOperation", op(1), None, "completed"),
    (1, "ToolCall", TR_EXEC_PY, "EXECUTED", "completed"),
    (2, "InferenceCall", "inference:1", "STARTED", "completed"),
    (3, "ConversationItem", item(4), "PROMPTED", None),
)


def test_causal_chain_from_terminal_operation_to_user_message(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    assert q(graphs, "terminal-reuse", "causal-chain", node=op(5)) == TR_CHAIN_OP5
    assert q(graphs, "terminal-reuse", "causal-chain", node=op(1)) == TR_CHAIN_OP1


def test_causal_chain_accepts_a_node_key(graphs: dict[str, nx.MultiDiGraph]) -> None:
    key = f"{TR_TRACE}/TerminalOperation/{op(1)}"
    assert q(graphs, "terminal-reuse", "causal-chain", node=key) == TR_CHAIN_OP1


def test_causal_chain_through_code_cell(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # code-mode op3 (cargo run, still running: no ExecCommandEnd) <- code-mode-2-1
    # (requester code_cell runtime cell 2, seq 36, never ended) <- cell 2 (seq 35,
    # yielded, execution running) <- inference:4 (item 14) <- its last request
    # item 12, the turn-2 user message "Start the web UI ...".
    assert q(graphs, "code-mode", "causal-chain", node=op(3)) == expect(
        "causal-chain",
        (0, "TerminalOperation", op(3), None, "running"),
        (1, "ToolCall", "code-mode-2-1", "EXECUTED", "running"),
        (2, "CodeCell", CM_CELL2, "REQUESTED", "running"),
        (3, "InferenceCall", "inference:4", "STARTED", "completed"),
        (4, "ConversationItem", item(12), "PROMPTED", None),
    )


def test_causal_chain_from_tool_output_item(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # terminal-reuse item 7 is call_4AOP's function_call_output (produced_by tool).
    assert q(graphs, "terminal-reuse", "causal-chain", node=item(7)) == expect(
        "causal-chain",
        (0, "ConversationItem", item(7), None, None),
        (1, "ToolCall", TR_EXEC_PY, "PRODUCED", "completed"),
        (2, "InferenceCall", "inference:1", "STARTED", "completed"),
        (3, "ConversationItem", item(4), "PROMPTED", None),
    )
    # code-mode item 7 is cell 1's custom_tool_call_output (produced_by code_cell).
    assert q(graphs, "code-mode", "causal-chain", node=item(7)) == expect(
        "causal-chain",
        (0, "ConversationItem", item(7), None, None),
        (1, "CodeCell", CM_CELL1, "PRODUCED", "completed"),
        (2, "InferenceCall", "inference:1", "STARTED", "completed"),
        (3, "ConversationItem", item(4), "PROMPTED", None),
    )


def test_causal_chain_from_child_thread_reaches_spawning_tool(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # multi-agent: the spawn_agent edge of call_tyQA (seq 8) targets the child's
    # task item 10, not the thread; call_tyQA's item 6 is in inference:1's
    # response; inference:1's last request item is the user message 4.
    assert q(graphs, "multi-agent", "causal-chain", node=MA_CHILD) == expect(
        "causal-chain",
        (0, "Thread", MA_CHILD, None, "completed"),
        (1, "ToolCall", MA_SPAWN, "SPAWNED_AGENT", "completed"),
        (2, "InferenceCall", "inference:1", "STARTED", "completed"),
        (3, "ConversationItem", item(4), "PROMPTED", None),
    )
    # upstream-interrupt: call_ExpT's spawn edge targets the typed agent_message
    # item 13; call_ExpT (item 9) <- 5420bba7, whose last request item 7 is the
    # MCP search output <- call_o3y6 (item 6) <- 9b4f8e5f <- user message 4.
    assert q(graphs, "upstream-interrupt", "causal-chain", node=UP_CHILD) == expect(
        "causal-chain",
        (0, "Thread", UP_CHILD, None, "completed"),
        (1, "ToolCall", UP_SPAWN, "SPAWNED_AGENT", "completed"),
        (2, "InferenceCall", UP_INF_SPAWN, "STARTED", "completed"),
        (3, "ConversationItem", item(7), "PROMPTED", None),
        (4, "ToolCall", UP_SEARCH, "PRODUCED", "completed"),
        (5, "InferenceCall", UP_INF_SEARCH, "STARTED", "completed"),
        (6, "ConversationItem", item(4), "PROMPTED", None),
    )


def test_causal_chain_of_root_thread_is_just_the_thread(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # Nothing spawned the root thread: the chain is the thread alone. The root
    # thread id is also the rollout id (manifest.json); the bare id means the thread.
    key = f"2c9e5a13-7b4f-4d82-a6e0-91f3c8b5d247/Thread/{MA_ROOT}"
    assert q(graphs, "multi-agent", "causal-chain", node=key) == expect(
        "causal-chain", (0, "Thread", MA_ROOT, None, "completed"))
    assert q(graphs, "multi-agent", "causal-chain", node=MA_ROOT) == expect(
        "causal-chain", (0, "Thread", MA_ROOT, None, "completed"))


def test_causal_chain_across_agents(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # multi-agent item 25 is the root's mailbox copy of the child's first result
    # (agent_result edge, seq 42: source item 23 -> target item 25). Item 23 is
    # the child's final answer from inference:6; inference:6's last request item
    # is 22, the output of call_tOOw (started by inference:5). inference:5's last
    # request item is 19, the message delivered by send_message call_16pC
    # (edge:tool:call_16pC targets item 19). call_16pC's item 15 is in
    # inference:3's response; inference:3's last request item is 11, the output of
    # spawn_agent call_tyQA, started by inference:1 from the user message 4.
    assert q(graphs, "multi-agent", "causal-chain", node=item(25)) == expect(
        "causal-chain",
        (0, "ConversationItem", item(25), None, None),
        (1, "ConversationItem", item(23), "DELIVERED_RESULT", None),
        (2, "InferenceCall", "inference:6", "PRODUCED", "completed"),
        (3, "ConversationItem", item(22), "PROMPTED", None),
        (4, "ToolCall", MA_TESTLINES, "PRODUCED", "completed"),
        (5, "InferenceCall", "inference:5", "STARTED", "completed"),
        (6, "ConversationItem", item(19), "PROMPTED", None),
        (7, "ToolCall", MA_SEND, "SENT_MESSAGE", "completed"),
        (8, "InferenceCall", "inference:3", "STARTED", "completed"),
        (9, "ConversationItem", item(11), "PROMPTED", None),
        (10, "ToolCall", MA_SPAWN, "PRODUCED", "completed"),
        (11, "InferenceCall", "inference:1", "STARTED", "completed"),
        (12, "ConversationItem", item(4), "PROMPTED", None),
    )
    # The child's first operation: call_PcF8 <- inference:2, whose last request
    # item is the spawn task item 10 (spawn_agent edge from call_tyQA).
    assert q(graphs, "multi-agent", "causal-chain", node=op(1)) == expect(
        "causal-chain",
        (0, "TerminalOperation", op(1), None, "completed"),
        (1, "ToolCall", MA_TOKEI, "EXECUTED", "completed"),
        (2, "InferenceCall", "inference:2", "STARTED", "completed"),
        (3, "ConversationItem", item(10), "PROMPTED", None),
        (4, "ToolCall", MA_SPAWN, "SPAWNED_AGENT", "completed"),
        (5, "InferenceCall", "inference:1", "STARTED", "completed"),
        (6, "ConversationItem", item(4), "PROMPTED", None),
    )


def test_causal_chain_from_cancelled_inference(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # upstream-interrupt 1912ff75 (cancelled by the turn end, seq 28): its last
    # request item (position 9) is 14, the spawn_agent output of call_ExpT.
    assert q(graphs, "upstream-interrupt", "causal-chain", node=UP_INF_CANCELLED) == expect(
        "causal-chain",
        (0, "InferenceCall", UP_INF_CANCELLED, None, "cancelled"),
        (1, "ConversationItem", item(14), "PROMPTED", None),
        (2, "ToolCall", UP_SPAWN, "PRODUCED", "completed"),
        (3, "InferenceCall", UP_INF_SPAWN, "STARTED", "completed"),
        (4, "ConversationItem", item(7), "PROMPTED", None),
        (5, "ToolCall", UP_SEARCH, "PRODUCED", "completed"),
        (6, "InferenceCall", UP_INF_SEARCH, "STARTED", "completed"),
        (7, "ConversationItem", item(4), "PROMPTED", None),
    )


def test_causal_chain_through_compaction_reaches_user_message(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # compaction: the turn-3 apply_patch call_1QNH (seq 37) has its item 25 in
    # inference:5's response. inference:5 is the full request after the install
    # (seq 35); its last request item (position 6) is the compaction summary item
    # 20, produced_by the compaction. The compaction (seq 30-34, before any
    # sampling in turn 3) was computed from input items 1-15, the last of which
    # (position 14) is the turn-3 user message 15 "Now add a regression benchmark
    # for 1e6 steps.", which nothing produced.
    tail = [
        ("Compaction", CP_COMPACTION, "PRODUCED", None),
        ("ConversationItem", item(15), "COMPACTED_INTO", None),
    ]
    assert q(graphs, "compaction", "causal-chain", node="call_1QNH1rGGqKosNcj9qWSfJzZM") == expect(
        "causal-chain",
        (0, "ToolCall", "call_1QNH1rGGqKosNcj9qWSfJzZM", None, "completed"),
        (1, "InferenceCall", "inference:5", "STARTED", "completed"),
        (2, "ConversationItem", item(20), "PROMPTED", None),
        *[(step, *row) for step, row in enumerate(tail, 3)],
    )
    # The failed compaction request: made by the same compaction (seq 30/31).
    assert q(graphs, "compaction", "causal-chain", node="compaction_request:1") == expect(
        "causal-chain",
        (0, "CompactionRequest", "compaction_request:1", None, "failed"),
        (1, "Compaction", CP_COMPACTION, "MADE_REQUEST", None),
        (2, "ConversationItem", item(15), "COMPACTED_INTO", None),
    )


def test_causal_chain_unknown_id(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no node with key or id 'inference:99'"):
        q(graphs, "terminal-reuse", "causal-chain", node="inference:99")


# --- tool-calls-of-inference --------------------------------------------------

# terminal-reuse (tool_call_ids_started_by_response plus the function_call items
# of each response; command is the exec operation's display_command from the
# ExecCommandBegin payload, exit code from ExecCommandEnd; write_stdin
# operations have no command and no exit code; op4's bash never ended).
TR_TOOLS_BY_INFERENCE = {
    "inference:1": [(TR_EXEC_PY, "exec_command", None, "completed", op(1), "37451",
                     "/bin/bash -lc python3 -q", 0)],
    "inference:2": [(TR_WRITE_IMPORT, "write_stdin", None, "completed", op(2), "37451", None,
                     None)],
    "inference:3": [(TR_WRITE_EXIT, "write_stdin", None, "completed", op(3), "37451", None,
                     None)],
    "inference:4": [],  # response is the final message 15 only
    "inference:5": [(TR_EXEC_BASH, "exec_command", None, "completed", op(4), "52310",
                     "/bin/bash -lc bash --noprofile --norc", None)],
    "inference:6": [(TR_WRITE_PYTEST, "write_stdin", None, "completed", op(5), "52310", None,
                     None)],
    "inference:7": [],  # reasoning 22 and final message 23
}

# code-mode: inference:1's response holds cell 1's exec item 6; the cell's
# nested tools (requester runtime cell 1) are rg (seq 8), the MCP docs/search
# call (seq 13, no terminal operation) and cargo build (seq 17). inference:2's
# response holds the model's `wait` call (kind other/wait). inference:4's holds
# cell 2, whose only tool (cargo run, seq 36) is still running.
CM_TOOLS_BY_INFERENCE = {
    "inference:1": [
        ("code-mode-1-1", "exec_command", CM_CELL1, "completed", op(1), "40217",
         "/bin/bash -lc rg --files -g '*.rs' crates/orbit-core", 0),
        ("code-mode-1-2", "docs/search", CM_CELL1, "completed", None, None, None, None),
        ("code-mode-1-3", "exec_command", CM_CELL1, "completed", op(2), "40288",
         "/bin/bash -lc cargo build -p orbit-core --release", 0),
    ],
    "inference:2": [(CM_WAIT, "wait", None, "completed", None, None, None, None)],
    "inference:3": [],  # final message 11 only
    "inference:4": [("code-mode-2-1", "exec_command", CM_CELL2, "running", op(3), "40391",
                     "/bin/bash -lc cargo run -p orbit-web -- --port 8080", None)],
    "inference:5": [],  # final message 16 only
}


@pytest.mark.parametrize("inference", sorted(TR_TOOLS_BY_INFERENCE))
def test_tool_calls_of_inference_terminal_reuse(
        graphs: dict[str, nx.MultiDiGraph], inference: str) -> None:
    rows = q(graphs, "terminal-reuse", "tool-calls-of-inference", inference=inference)
    assert rows == expect("tool-calls-of-inference", *TR_TOOLS_BY_INFERENCE[inference])


@pytest.mark.parametrize("inference", sorted(CM_TOOLS_BY_INFERENCE))
def test_tool_calls_of_inference_code_mode(
        graphs: dict[str, nx.MultiDiGraph], inference: str) -> None:
    rows = q(graphs, "code-mode", "tool-calls-of-inference", inference=inference)
    assert rows == expect("tool-calls-of-inference", *CM_TOOLS_BY_INFERENCE[inference])


def test_tool_calls_of_inference_upstream(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # The upstream search tool's kind is {"type": "other", "name": "search"} (seq 8).
    assert q(graphs, "upstream-interrupt", "tool-calls-of-inference",
             inference=UP_INF_SEARCH) == expect(
        "tool-calls-of-inference",
        (UP_SEARCH, "search", None, "completed", None, None, None, None))
    # The cancelled inference's partial response is one commentary message.
    assert q(graphs, "upstream-interrupt", "tool-calls-of-inference",
             inference=UP_INF_CANCELLED) == []


def test_tool_calls_of_unknown_inference(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no InferenceCall with id 'inference:8'"):
        q(graphs, "terminal-reuse", "tool-calls-of-inference", inference="inference:8")


# --- agent-tree and agent-result-path -----------------------------------------


def test_agent_tree_multi_agent(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # Child origin (state.json threads): spawned by the root, task loc_counter,
    # role explorer; its spawn edge targets the task item 10 ("item"); its two
    # agent_result edges (seq 42, 57) leave its items 23 and 31.
    assert q(graphs, "multi-agent", "agent-tree") == expect(
        "agent-tree",
        (MA_ROOT, "/root", None, None, None, "completed", None, None, None, []),
        (MA_CHILD, "/root/loc_counter", MA_ROOT, "loc_counter", "explorer", "completed",
         MA_SPAWN, MA_SPAWN_EDGE, "item", [MA_RESULT1, MA_RESULT2]),
    )


def test_agent_tree_upstream(graphs: dict[str, nx.MultiDiGraph]) -> None:
    assert q(graphs, "upstream-interrupt", "agent-tree") == expect(
        "agent-tree",
        (UP_ROOT, "/root", None, None, None, "completed", None, None, None, []),
        (UP_CHILD, "/root/reviewer", UP_ROOT, "reviewer", "reviewer", "completed", UP_SPAWN,
         UP_SPAWN_EDGE, "item", [UP_RESULT]),
    )


def test_agent_tree_single_thread(graphs: dict[str, nx.MultiDiGraph]) -> None:
    assert q(graphs, "terminal-reuse", "agent-tree") == expect(
        "agent-tree",
        (TR_THREAD, "/root", None, None, None, "completed", None, None, None, []))
    # code-mode never ends its thread (no thread_ended event): still running.
    assert q(graphs, "code-mode", "agent-tree") == expect(
        "agent-tree",
        (CM_THREAD, "/root", None, None, None, "running", None, None, None, []))


def test_agent_result_path_multi_agent(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # agent_result_observed seq 42: child's final message 23 -> root mailbox item
    # 25; seq 57 (after followup_task): final message 31 -> root item 33.
    assert q(graphs, "multi-agent", "agent-result-path", thread=MA_CHILD) == expect(
        "agent-result-path",
        (MA_RESULT1, MA_CHILD, item(23), item(25), MA_ROOT, MA_SPAWN),
        (MA_RESULT2, MA_CHILD, item(31), item(33), MA_ROOT, MA_SPAWN),
    )
    # The root delivers no result to anyone.
    assert q(graphs, "multi-agent", "agent-result-path", thread=MA_ROOT) == []


def test_agent_result_path_upstream_and_single_thread(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # seq 27: the reviewer's final message 16 -> typed agent_message item 18.
    assert q(graphs, "upstream-interrupt", "agent-result-path", thread=UP_CHILD) == expect(
        "agent-result-path", (UP_RESULT, UP_CHILD, item(16), item(18), UP_ROOT, UP_SPAWN))
    assert q(graphs, "terminal-reuse", "agent-result-path", thread=TR_THREAD) == []
    with pytest.raises(QueryError, match="no Thread with id"):
        q(graphs, "terminal-reuse", "agent-result-path", thread=MA_CHILD)


# --- failed-operations ------------------------------------------------------------


def test_failed_operations_upstream_cancelled_inference(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # Only 1912ff75 (started seq 23) is not completed: codex_turn_ended
    # "cancelled" (seq 28) closed it, and the late inference_cancelled (seq 30)
    # kept that status. The cancelled turn itself is not an operation type here.
    assert q(graphs, "upstream-interrupt", "failed-operations") == expect(
        "failed-operations",
        ("InferenceCall", UP_INF_CANCELLED, "cancelled", UP_ROOT, UP_INF_CANCELLED, 23))


def test_failed_operations_ignores_failed_compaction_request(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # compaction_request:1 failed (seq 31), but compaction requests are not among
    # the listed types (inference calls, tool calls, terminal operations, code
    # cells), and every one of those completed.
    assert q(graphs, "compaction", "failed-operations") == []


@pytest.mark.parametrize("bundle", ["terminal-reuse", "code-mode", "multi-agent"])
def test_failed_operations_empty(graphs: dict[str, nx.MultiDiGraph], bundle: str) -> None:
    # Every tool_call_ended / inference_completed / ExecCommandEnd says completed;
    # code-mode's cell 2 and its cargo run are running, which is not a failure.
    assert q(graphs, bundle, "failed-operations") == []


# --- terminal-history -----------------------------------------------------------

# Per session (state.json terminal_sessions[].operation_ids), in started_seq
# order: exec operations start at tool_call_runtime_started (ExecCommandBegin),
# write_stdin operations at their tool_call_started; stdin is the invocation's
# `chars`; exit codes come from ExecCommandEnd (writes have none).
TERMINAL_HISTORY = {
    ("terminal-reuse", "37451"): [
        (op(1), "exec_command", 8, "/bin/bash -lc python3 -q", None, 0, "completed", TR_EXEC_PY,
         "inference:1"),
        (op(2), "write_stdin", 13, None,
         "import sys, platform\nprint(sys.version.split()[0], platform.machine())\n"
         "import orbit_sim\n", None, "completed", TR_WRITE_IMPORT, "inference:2"),
        (op(3), "write_stdin", 17, None, "exit()\n", None, "completed", TR_WRITE_EXIT,
         "inference:3"),
    ],
    ("terminal-reuse", "52310"): [
        (op(4), "exec_command", 29, "/bin/bash -lc bash --noprofile --norc", None, None,
         "running", TR_EXEC_BASH, "inference:5"),
        (op(5), "write_stdin", 33, None,
         "source .venv/bin/activate && pytest -q tests/test_parser.py\n", None, "completed",
         TR_WRITE_PYTEST, "inference:6"),
    ],
    # code-mode: one exec per session; the inference is the one that wrote the cell.
    ("code-mode", "40217"): [
        (op(1), "exec_command", 9, "/bin/bash -lc rg --files -g '*.rs' crates/orbit-core", None,
         0, "completed", "code-mode-1-1", "inference:1"),
    ],
    ("code-mode", "40288"): [
        (op(2), "exec_command", 18, "/bin/bash -lc cargo build -p orbit-core --release", None, 0,
         "completed", "code-mode-1-3", "inference:1"),
    ],
    ("code-mode", "40391"): [
        (op(3), "exec_command", 37, "/bin/bash -lc cargo run -p orbit-web -- --port 8080", None,
         None, "running", "code-mode-2-1", "inference:4"),
    ],
    ("multi-agent", "61002"): [
        (op(1), "exec_command", 25,
         "/bin/bash -lc tokei crates --exclude target --output json | jq -c "
         "'.Rust.children | map_values(length)'", None, 0, "completed", MA_TOKEI, "inference:2"),
    ],
    ("multi-agent", "61019"): [
        (op(2), "exec_command", 35,
         "/bin/bash -lc for c in crates/*; do printf '%s %s\\n' \"$(basename $c)\" "
         "\"$(rg --files -g '*_tests.rs' -g 'tests/**' $c | xargs cat | wc -l)\"; done",
         None, 0, "completed", MA_TESTLINES, "inference:5"),
    ],
    ("compaction", "70112"): [
        (op(1), "exec_command", 9,
         "/bin/bash -lc rg -n 'fn propagate|Vec::with_capacity|push\\(' "
         "crates/orbit-core/src/propagate.rs", None, 0, "completed", CP_RG, "inference:1"),
    ],
}


@pytest.mark.parametrize(("bundle", "terminal"), sorted(TERMINAL_HISTORY))
def test_terminal_history(graphs: dict[str, nx.MultiDiGraph], bundle: str, terminal: str) -> None:
    rows = q(graphs, bundle, "terminal-history", terminal=terminal)
    assert rows == expect("terminal-history", *TERMINAL_HISTORY[bundle, terminal])


def test_terminal_history_covers_every_session(graphs: dict[str, nx.MultiDiGraph]) -> None:
    sessions = {
        (bundle, data["object_id"])
        for bundle, graph in graphs.items()
        for _, data in graph.nodes(data=True) if data["label"] == "TerminalSession"
    }
    assert sessions == set(TERMINAL_HISTORY)


def test_terminal_history_unknown_terminal(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no TerminalSession with id '99999'"):
        q(graphs, "terminal-reuse", "terminal-history", terminal="99999")


# --- transcript ---------------------------------------------------------------------

PERMISSIONS = (
    "<permissions instructions>\nFilesystem sandboxing defines which files can be read or "
    "written. `sandbox_mode` is `workspace-write`: The sandbox permits reading files, and "
    "editing files in `cwd` and `writable_roots`.\nNetwork access is restricted.\nApproval "
    "policy is currently on-request.\n</permissions instructions>"
)


def test_transcript_terminal_reuse(graphs: dict[str, nx.MultiDiGraph]) -> None:
    rows = q(graphs, "terminal-reuse", "transcript", thread=TR_THREAD)
    # threads[].conversation_item_ids lists items 1..23 in order.
    assert len(rows) == 23
    assert [row["position"] for row in rows] == list(range(23))
    assert [row["item_id"] for row in rows] == [item(n) for n in range(1, 24)]
    # Roles and kinds in order: the request prefix (developer + 3 user messages,
    # payloads/4.json), then per response reasoning/function_call items and the
    # tool outputs carried by the next request.
    assert [row["role"] for row in rows] == [
        "developer", "user", "user", "user",
        "assistant", "assistant", "tool",
        "assistant", "assistant", "tool",
        "assistant", "assistant", "assistant", "tool",
        "assistant",
        "user", "assistant", "assistant", "tool", "assistant", "tool", "assistant", "assistant",
    ]
    assert [row["kind"] for row in rows] == [
        "message", "message", "message", "message",
        "reasoning", "function_call", "function_call_output",
        "reasoning", "function_call", "function_call_output",
        "reasoning", "message", "function_call", "function_call_output",
        "message",
        "message", "reasoning", "function_call", "function_call_output", "function_call",
        "function_call_output", "reasoning", "message",
    ]
    by_position = {row["position"]: row for row in rows}
    # Item 1: the developer permissions message of the first request.
    assert by_position[0] == expect(
        "transcript", (0, item(1), "developer", "message", None, PERMISSIONS))[0]
    # Item 5: reasoning with a summary and encrypted_content (payloads/7.json).
    assert by_position[4] == expect("transcript", (
        4, item(5), "assistant", "reasoning", "analysis",
        "**Starting an interactive Python session**\n\nI'll open a PTY running `python3 -q` so "
        "I can send statements to it one at a time.\n[encrypted_content]"))[0]
    # Item 6: the function_call whose arguments are kept as a json summary.
    assert by_position[5] == expect("transcript", (
        5, item(6), "assistant", "function_call", "commentary",
        '{"cmd":"python3 -q","tty":true,"yield_time_ms":1000}'))[0]
    # Item 7: its function_call_output (tool result payloads/8.json, sent in request 9.json).
    assert by_position[6] == expect("transcript", (
        6, item(7), "tool", "function_call_output", "commentary",
        "Chunk ID: dbb0cb\nWall time: 1.0020 seconds\nProcess running with session ID 37451\n"
        "Original token count: 1\nOutput:\n>>> "))[0]
    # Item 16: the turn-2 user message (payloads/22.json).
    assert by_position[15] == expect("transcript", (
        15, item(16), "user", "message", None,
        "Run the parser tests inside the virtualenv and keep the shell open so we can poke at "
        "it."))[0]


def test_transcript_cuts_long_previews(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # code-mode item 6 is the exec cell's source (payloads/7.json custom_tool_call
    # input, 489 characters): the preview keeps 399 of them and an ellipsis.
    source = payload("code-mode", {"path": "payloads/7.json"})["output_items"][1]["input"]
    assert len(source) > 400
    rows = q(graphs, "code-mode", "transcript", thread=CM_THREAD)
    assert len(rows) == 16
    assert rows[5] == expect("transcript", (
        5, item(6), "assistant", "custom_tool_call", "commentary", source[:399] + "…"))[0]


def test_transcript_child_thread(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # multi-agent child: conversation_item_ids interleave with the root's ids.
    rows = q(graphs, "multi-agent", "transcript", thread=MA_CHILD)
    child_items = [7, 8, 9, 10, 12, 13, 18, 19, 20, 21, 22, 23, 28, 29, 30, 31]
    assert [(row["position"], row["item_id"]) for row in rows] == [
        (position, item(n)) for position, n in enumerate(child_items)]
    # Item 10: the spawn task as an InterAgentCommunication mailbox message.
    assert rows[3]["role"] == "assistant"
    assert rows[3]["kind"] == "message"
    assert rows[3]["channel"] == "commentary"
    assert rows[3]["preview"].startswith(
        '{"author":"/root","recipient":"/root/loc_counter","other_recipients":[')
    # Items 29-31: child turn 2's response (payloads/49.json); the commentary
    # message 30 and the final message 31 share a timestamp.
    assert [(row["kind"], row["channel"]) for row in rows[13:]] == [
        ("reasoning", "analysis"), ("message", "commentary"), ("message", "final")]
    assert rows[13]["preview"] == "**Reusing the earlier tokei run**\n[encrypted_content]"
    assert rows[14]["preview"] == "Splitting the earlier orbit-core numbers by file."
    assert rows[15]["preview"].startswith(
        "orbit-core by module (code lines): ephemeris 6 410, propagate 4 022")


def test_transcript_compaction_marker(graphs: dict[str, nx.MultiDiGraph]) -> None:
    rows = q(graphs, "compaction", "transcript", thread=CP_THREAD)
    assert len(rows) == 27
    # Item 16: the compaction marker (empty body: no preview); items 17-19 are
    # the replacement user messages, item 20 the encrypted summary.
    assert rows[15:20] == expect(
        "transcript",
        (15, item(16), "assistant", "compaction_marker", None, None),
        (16, item(17), "user", "message", None,
         "Why does `orbit propagate --steps 1e6` get slower over time?"),
        (17, item(18), "user", "message", None, "Fix it with apply_patch."),
        (18, item(19), "user", "message", None, "Now add a regression benchmark for 1e6 steps."),
        (19, item(20), "assistant", "message", "summary", "[encrypted_content]"),
    )


def test_transcript_unknown_thread(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no Thread with id 'nope'"):
        q(graphs, "terminal-reuse", "transcript", thread="nope")


# --- item-provenance --------------------------------------------------------------


def test_item_provenance_response_item(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # terminal-reuse item 6: produced_by inference:1, position 1 of its
    # response_item_ids, and position 5 of the request of every later inference
    # (inference:2..7 all replay or extend the same history).
    assert q(graphs, "terminal-reuse", "item-provenance", item=item(6)) == expect(
        "item-provenance",
        ("produced_by", "InferenceCall", "inference:1", None, "inference"),
        *[("prompted", "InferenceCall", f"inference:{n}", 5, None) for n in range(2, 8)],
        ("responded_with", "InferenceCall", "inference:1", 1, None),
    )


def test_item_provenance_user_input(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # terminal-reuse item 4: the user's first message, produced_by [] (user input
    # has no producer node), position 3 of every request.
    assert q(graphs, "terminal-reuse", "item-provenance", item=item(4)) == expect(
        "item-provenance",
        *[("prompted", "InferenceCall", f"inference:{n}", 3, None) for n in range(1, 8)])
    # Item 16: the turn-2 user message, position 15 of inference:5..7.
    assert q(graphs, "terminal-reuse", "item-provenance", item=item(16)) == expect(
        "item-provenance",
        *[("prompted", "InferenceCall", f"inference:{n}", 15, None) for n in range(5, 8)])


def test_item_provenance_tool_output(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # terminal-reuse item 7: call_4AOP's output, position 6 of inference:2..7.
    assert q(graphs, "terminal-reuse", "item-provenance", item=item(7)) == expect(
        "item-provenance",
        ("produced_by", "ToolCall", TR_EXEC_PY, None, "tool"),
        *[("prompted", "InferenceCall", f"inference:{n}", 6, None) for n in range(2, 8)],
    )
    # code-mode item 7: cell 1's yielded output, position 6 of inference:2..5.
    assert q(graphs, "code-mode", "item-provenance", item=item(7)) == expect(
        "item-provenance",
        ("produced_by", "CodeCell", CM_CELL1, None, "code_cell"),
        *[("prompted", "InferenceCall", f"inference:{n}", 6, None) for n in range(2, 6)],
    )


def test_item_provenance_compaction_and_partial_response(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # compaction item 17: a replacement item (produced_by compaction) reused by
    # the full request of inference:5 and by inference:6, at position 3.
    assert q(graphs, "compaction", "item-provenance", item=item(17)) == expect(
        "item-provenance",
        ("produced_by", "Compaction", CP_COMPACTION, None, "compaction"),
        ("prompted", "InferenceCall", "inference:5", 3, None),
        ("prompted", "InferenceCall", "inference:6", 3, None),
    )
    # upstream item 17: the cancelled inference's partial message, replayed at
    # position 10 of the turn-2 request.
    assert q(graphs, "upstream-interrupt", "item-provenance", item=item(17)) == expect(
        "item-provenance",
        ("produced_by", "InferenceCall", UP_INF_CANCELLED, None, "inference"),
        ("prompted", "InferenceCall", UP_INF_SUMMARY, 10, None),
        ("responded_with", "InferenceCall", UP_INF_CANCELLED, 0, None),
    )


def test_item_provenance_unknown_item(graphs: dict[str, nx.MultiDiGraph]) -> None:
    with pytest.raises(QueryError, match="no ConversationItem with id 'conversation_item:24'"):
        q(graphs, "terminal-reuse", "item-provenance", item=item(24))


# --- compactions ---------------------------------------------------------------------


def test_compactions(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # seq 30/31: compaction_request:1 started and failed; seq 32/33: request 2
    # completed; seq 34 compaction_installed at 1777046692953. The checkpoint
    # payload installs items 1-15 as input (14 earlier + the new user message 15)
    # and 4 replacement items (17-20); the marker is item 16.
    assert q(graphs, "compaction", "compactions") == expect(
        "compactions",
        (CP_COMPACTION, CP_THREAD, 1777046692953, ["compaction_request:1", "compaction_request:2"],
         ["failed", "completed"], 1, 15, 4, item(16)),
    )


@pytest.mark.parametrize("bundle", ["terminal-reuse", "code-mode", "multi-agent",
                                    "upstream-interrupt"])
def test_no_compactions(graphs: dict[str, nx.MultiDiGraph], bundle: str) -> None:
    assert q(graphs, bundle, "compactions") == []


# --- token-usage ----------------------------------------------------------------------

# Sums of the response payloads' token_usage (input, cached, output, reasoning),
# grouped by the inference_started event's thread, turn and model.
TOKEN_USAGE = {
    "terminal-reuse": [
        # payloads 7, 10, 14, 19: 6412+6655+7032+7210, 0+6272+6528+7040,
        # 118+97+141+88, 64+38+52+0
        (TR_THREAD, TR_TURN1, MODEL, 4, 27309, 19840, 444, 154),
        # payloads 23, 28, 32: 7602+7881+8340, 0+7552+7808, 103+64+156, 45+0+40
        (TR_THREAD, TR_TURN2, MODEL, 3, 23823, 15360, 323, 85),
    ],
    "code-mode": [
        # payloads 7, 18, 25: 9118+9802+10120, 0+9088+9728, 402+77+95, 211+30+0
        (CM_THREAD, CM_TURN1, MODEL, 3, 29040, 18816, 574, 241),
        # payloads 29, 34: 10642+10930, 10112+10624, 118+61, 22+0
        (CM_THREAD, CM_TURN2, MODEL, 2, 21572, 20736, 179, 22),
    ],
    "multi-agent": [
        # root inferences 1, 3, 4, 7, 9, 10 (payloads 5, 16, 26, 42, 53, 60):
        # 8204+8390+8471+8960+9388+9610, 0+8192+8448+8448+0+9344,
        # 131+66+41+98+37+188, 70+24+0+42+0+27
        (MA_ROOT, MA_ROOT_TURN, MODEL, 6, 53023, 34432, 561, 163),
        # child turn 1, inferences 2, 5, 6 (payloads 15, 30, 36):
        # 5980+6402+6733, 0+6016+6400, 144+120+210, 83+61+0
        (MA_CHILD, MA_CHILD_TURN1, MODEL, 3, 19115, 12416, 474, 144),
        # child turn 2, inference 8 (payload 49)
        (MA_CHILD, MA_CHILD_TURN2, MODEL, 1, 7104, 6656, 152, 35),
    ],
    "compaction": [
        # payloads 5, 11: 6020+6388, 0+5888, 90+172, 41+64
        (CP_THREAD, CP_TURN1, MODEL, 2, 12408, 5888, 262, 105),
        # payloads 15, 21: 6850+7012, 0+6784, 140+45, 38+0
        (CP_THREAD, CP_TURN2, MODEL, 2, 13862, 6784, 185, 38),
        # payloads 29, 35 (the compaction requests are not inference calls):
        # 2904+3402, 0+2816, 388+61, 120+0
        (CP_THREAD, CP_TURN3, MODEL, 2, 6306, 2816, 449, 120),
    ],
    "upstream-interrupt": [
        # 9b4f8e5f, 5420bba7 (payloads 5, 11) and the cancelled 1912ff75, whose
        # partial response (payload 24) has token_usage null:
        # 7912+8240, 0+7936, 96+118, 64+48
        (UP_ROOT, UP_TURN1, "gpt-5.1-codex", 3, 16152, 7936, 214, 112),
        # 30f15319 (payload 27)
        (UP_ROOT, UP_TURN2, "gpt-5.1-codex", 1, 9877, 8064, 142, 38),
        # the reviewer's bf3406a5 (payload 20)
        (UP_CHILD, UP_CHILD_TURN, "gpt-5.1-codex", 1, 5604, 0, 211, 130),
    ],
}


@pytest.mark.parametrize("bundle", BUNDLE_NAMES)
def test_token_usage(graphs: dict[str, nx.MultiDiGraph], bundle: str) -> None:
    assert q(graphs, bundle, "token-usage") == expect("token-usage", *TOKEN_USAGE[bundle])


@pytest.mark.parametrize("bundle", BUNDLE_NAMES)
def test_token_usage_literals_match_raw_payloads(bundle: str) -> None:
    """Re-add the literals above from the raw events, as a check on the hand sums."""
    started: dict[str, tuple[str, str, str]] = {}
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for event in events(bundle):
        body = event["payload"]
        if body["type"] == "inference_started":
            key = (body["thread_id"], body["codex_turn_id"], body["model"])
            started[body["inference_call_id"]] = key
            totals[key][0] += 1
        ref = body.get("response_payload") or body.get("partial_response_payload")
        if body["type"] in ("inference_completed", "inference_cancelled") and ref:
            usage = payload(bundle, ref)["token_usage"] or {}
            row = totals[started[body["inference_call_id"]]]
            for index, name in enumerate(("input_tokens", "cached_input_tokens",
                                          "output_tokens", "reasoning_output_tokens"), 1):
                row[index] += usage.get(name, 0)
    assert {key: tuple(value) for key, value in totals.items()} == {
        row[:3]: row[3:] for row in TOKEN_USAGE[bundle]}


# --- slowest ---------------------------------------------------------------------------

# terminal-reuse durations, end minus start wall time of the events:
#   inferences: 1: 2595 (seq 6->9), 2: 1931, 3: 2471, 4: 3106 (seq 20->21),
#     5: 2941, 6: 1721, 7: 4411 (seq 35->36)
#   operations: op1 6588 (ExecCommandBegin seq 8 -> End seq 18), op2 804, op3 101,
#     op4 running (no end), op5 6345 (seq 33->34)
#   tools: call_4AOP 1219 (seq 7->10), call_rF8V 804, call_ewav 101,
#     call_lHeD 509, call_yh9f 6345 (seq 33->34)
TR_SLOWEST_1 = [
    ("InferenceCall", "inference:7", 4411, "completed", 35),
    ("TerminalOperation", op(1), 6588, "completed", 8),
    ("ToolCall", TR_WRITE_PYTEST, 6345, "completed", 33),
]
TR_SLOWEST_2 = [
    ("InferenceCall", "inference:7", 4411, "completed", 35),
    ("InferenceCall", "inference:4", 3106, "completed", 20),
    ("TerminalOperation", op(1), 6588, "completed", 8),
    ("TerminalOperation", op(5), 6345, "completed", 33),
    ("ToolCall", TR_WRITE_PYTEST, 6345, "completed", 33),
    ("ToolCall", TR_EXEC_PY, 1219, "completed", 7),
]
# code-mode:
#   inferences: 1: 3939 (seq 6->10), 2: 2216, 3: 3341 (seq 27->28), 4: 2106, 5: 2761
#   operations: op1 146 (seq 9->11), op2 60146 (seq 18->23), op3 running
#   tools: 1-1 148, 1-2 391, 1-3 60148 (seq 17->24), wait 47922 (seq 22->26),
#     2-1 running
CM_SLOWEST_2 = [
    ("InferenceCall", "inference:1", 3939, "completed", 6),
    ("InferenceCall", "inference:3", 3341, "completed", 27),
    ("TerminalOperation", op(2), 60146, "completed", 18),
    ("TerminalOperation", op(1), 146, "completed", 9),
    ("ToolCall", "code-mode-1-3", 60148, "completed", 17),
    ("ToolCall", CM_WAIT, 47922, "completed", 22),
]


def test_slowest_n1_and_n2(graphs: dict[str, nx.MultiDiGraph]) -> None:
    assert q(graphs, "terminal-reuse", "slowest", n=1) == expect("slowest", *TR_SLOWEST_1)
    assert q(graphs, "terminal-reuse", "slowest", n=2) == expect("slowest", *TR_SLOWEST_2)
    assert q(graphs, "code-mode", "slowest", n=2) == expect("slowest", *CM_SLOWEST_2)
    assert q(graphs, "code-mode", "slowest", n=1) == expect(
        "slowest", CM_SLOWEST_2[0], CM_SLOWEST_2[2], CM_SLOWEST_2[4])


def test_slowest_default_lists_every_finished_object(graphs: dict[str, nx.MultiDiGraph]) -> None:
    # N defaults to 10: all 7 inferences, the 4 finished operations, all 5 tools.
    rows = q(graphs, "terminal-reuse", "slowest")
    assert [(row["label"], row["object_id"]) for row in rows] == [
        ("InferenceCall", f"inference:{n}") for n in (7, 4, 5, 1, 3, 2, 6)
    ] + [
        ("TerminalOperation", op(n)) for n in (1, 5, 2, 3)
    ] + [
        ("ToolCall", tool) for tool in (TR_WRITE_PYTEST, TR_EXEC_PY, TR_WRITE_IMPORT,
                                        TR_EXEC_BASH, TR_WRITE_EXIT)
    ]


# --- several traces in one graph ------------------------------------------------------


@pytest.fixture(scope="module")
def composed(graphs: dict[str, nx.MultiDiGraph]) -> nx.MultiDiGraph:
    return compose_graphs([graphs["terminal-reuse"], graphs["code-mode"]])


# Each pair: a query and arguments that name an object in both bundles (or none).
SHARED_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("inference-for-terminal-op", {"operation": op(1)}),
    ("causal-chain", {"node": "inference:1"}),
    ("tool-calls-of-inference", {"inference": "inference:1"}),
    ("item-provenance", {"item": item(7)}),
    ("agent-tree", {}),
    ("failed-operations", {}),
    ("compactions", {}),
    ("token-usage", {}),
    ("slowest", {"n": 2}),
]


@pytest.mark.parametrize(("name", "params"), SHARED_CALLS, ids=[name for name, _ in SHARED_CALLS])
def test_trace_filter_on_composed_graph_matches_each_graph_alone(
        graphs: dict[str, nx.MultiDiGraph], composed: nx.MultiDiGraph, name: str,
        params: dict[str, Any]) -> None:
    for bundle, trace in (("terminal-reuse", TR_TRACE), ("code-mode", CM_TRACE)):
        alone = run_query(graphs[bundle], name, **params)
        assert run_query(composed, name, trace=trace, **params) == alone


def test_trace_filter_with_per_trace_ids(
        graphs: dict[str, nx.MultiDiGraph], composed: nx.MultiDiGraph) -> None:
    for bundle, trace, thread, terminal in (
            ("terminal-reuse", TR_TRACE, TR_THREAD, "37451"),
            ("code-mode", CM_TRACE, CM_THREAD, "40288")):
        for name, params in (("transcript", {"thread": thread}),
                             ("agent-result-path", {"thread": thread}),
                             ("terminal-history", {"terminal": terminal})):
            alone = run_query(graphs[bundle], name, **params)
            assert run_query(composed, name, trace=trace, **params) == alone
            # The id is unique in the composed graph, so no trace is needed...
            assert run_query(composed, name, **params) == alone
        # ...but the other trace does not have it.
        other = CM_TRACE if trace == TR_TRACE else TR_TRACE
        with pytest.raises(QueryError, match="no Thread with id"):
            run_query(composed, "transcript", trace=other, thread=thread)


def test_composed_graph_without_trace_lists_both(composed: nx.MultiDiGraph) -> None:
    # Both root threads are /root; ties go by thread id (019dbf3a... < 019dbfa1...).
    assert run_query(composed, "agent-tree") == expect(
        "agent-tree",
        (TR_THREAD, "/root", None, None, None, "completed", None, None, None, []),
        (CM_THREAD, "/root", None, None, None, "running", None, None, None, []),
    )
    assert run_query(composed, "token-usage") == expect(
        "token-usage", *TOKEN_USAGE["terminal-reuse"], *TOKEN_USAGE["code-mode"])


@pytest.mark.parametrize(("name", "params", "message"), [
    ("inference-for-terminal-op", {"operation": op(1)},
     rf"TerminalOperation 'terminal_operation:1' exists in several traces \({TR_TRACE}, "
     rf"{CM_TRACE}\); pass a trace id"),
    ("tool-calls-of-inference", {"inference": "inference:1"}, "exists in several traces"),
    ("item-provenance", {"item": item(7)}, "exists in several traces"),
    ("causal-chain", {"node": "inference:1"}, "id 'inference:1' names several nodes"),
])
def test_ambiguous_id_across_traces_needs_a_trace(
        composed: nx.MultiDiGraph, name: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        run_query(composed, name, **params)


def test_item_provenance_names_the_multi_agent_edge_that_delivered_an_item(
        graphs: dict[str, nx.MultiDiGraph]) -> None:
    # state.json interaction_edges: the agent_result edge has source item 23 and
    # target item 25 (the parent's mailbox copy); inference_calls 7, 9 and 10 list
    # item 25 at index 12 of request_item_ids. The spawn edge targets item 10 (the
    # child's task message), carried by the parent's spawn_agent tool call.
    assert q(graphs, "multi-agent", "item-provenance", item=item(25)) == expect(
        "item-provenance",
        ("delivered_by", "ConversationItem", item(23), None, "DELIVERED_RESULT"),
        ("prompted", "InferenceCall", "inference:10", 12, None),
        ("prompted", "InferenceCall", "inference:7", 12, None),
        ("prompted", "InferenceCall", "inference:9", 12, None),
    )
    rows = q(graphs, "multi-agent", "item-provenance", item=item(10))
    assert rows[0] == expect(
        "item-provenance",
        ("delivered_by", "ToolCall", "call_tyQAea8C4nojp9RiKd06LLxP", None, "SPAWNED_AGENT"),
    )[0]
