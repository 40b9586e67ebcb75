"""Codex session rollout files: reading, grouping, the graph and the canned queries.

Expected values are worked out by hand from the scenarios in
``tests/session_files.py`` and from ``examples/generate_sessions.py`` (the
comment above each literal says where they come from), never pasted from a run.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from typer.testing import CliRunner

from tests import session_files as sf
from tracegraph.cli import app
from tracegraph.graph import (
    compose_graphs,
    load_graph,
    load_session_graph,
    read_graphml,
    write_graphml,
)
from tracegraph.graph.load import source_kind
from tracegraph.graph.schema import SCHEMA, SESSION_RULES
from tracegraph.queries import QueryError, run_query
from tracegraph.sessions import (
    SessionFileError,
    find_session_files,
    is_session_source,
    read_session_file,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sessions"
GENERATOR = REPO / "examples" / "generate_sessions.py"
ROOT = "0199563c-7a10-7c3e-9a51-3f0d2b8e4c11"
CHILD = "0199563c-9b22-7f04-8e13-6a2c9d0f1e27"
TOKEN_COLUMNS = ("thread_id", "codex_turn_id", "model", "inference_calls", "input_tokens",
                 "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def rows(graph: nx.MultiDiGraph, name: str, **params: Any) -> list[dict[str, Any]]:
    return run_query(graph, name, **params)


def tokens(*values: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [dict(zip(TOKEN_COLUMNS, value, strict=True)) for value in values]


def node(graph: nx.MultiDiGraph, label: str, object_id: str) -> dict[str, Any]:
    (data,) = [data for _, data in graph.nodes(data=True)
               if data["label"] == label and data["object_id"] == object_id]
    return data


@pytest.fixture(scope="module")
def eras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sessions directory with one rollout of each era, the paginated one compressed."""
    directory = tmp_path_factory.mktemp("sessions")
    sf.legacy_2025(directory)
    parent = sf.legacy_2026(directory)
    sf.child_without_ordinals(directory, parent)
    sf.paginated_2026(directory, compress=True)
    return directory


@pytest.fixture(scope="module")
def graph(eras: Path) -> nx.MultiDiGraph:
    return load_session_graph(eras)


@pytest.fixture(scope="module")
def example() -> nx.MultiDiGraph:
    return load_graph(EXAMPLE)


# --- reading and detection ------------------------------------------------------


def test_the_example_is_what_its_generator_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate_sessions", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_example(tmp_path)
    for path in written:
        relative = path.relative_to(tmp_path)
        assert path.read_bytes() == (EXAMPLE / relative).read_bytes(), relative


def test_detection_is_by_content_not_by_name(tmp_path: Path, eras: Path) -> None:
    (zst,) = eras.glob("2026/09/02/*.zst")
    renamed = tmp_path / "notes.txt"
    shutil.copy(zst, renamed)
    assert is_session_source(renamed) and source_kind(renamed) == "session"
    decoy = tmp_path / "rollout-2026-01-01T00-00-00-x.jsonl"
    decoy.write_text('{"type":"user","message":{"role":"user","content":"hi"}}\n')
    assert not is_session_source(decoy)
    assert source_kind(eras) == "session"
    assert source_kind(REPO / "examples" / "bundles" / "multi-agent") == "bundle"
    # Every session file below the directory, at any depth, and nothing else.
    assert [path.name for path in find_session_files(eras)] == [
        f"rollout-2025-11-20T15-00-00-{sf.T2025}.jsonl",
        f"rollout-2026-03-10T10-00-00-{sf.T2026}.jsonl",
        f"rollout-2026-03-10T10-30-00-{sf.TCHILD}.jsonl",
        f"rollout-2026-09-02T10-00-00-{sf.TPAGE}.jsonl.zst",
    ]


def test_another_tools_format_is_refused_in_one_line(tmp_path: Path) -> None:
    other = tmp_path / "claude.jsonl"
    other.write_text('{"type":"user","sessionId":"s","message":{"content":"secret-text"}}\n')
    with pytest.raises(SessionFileError) as err:
        read_session_file(other)
    message = str(err.value)
    assert message == (f"{other}: line 1: not a Codex session rollout file (the first line "
                       "is not a session_meta record)")
    result = CliRunner().invoke(app, ["export", str(other), "--graphml",
                                      str(tmp_path / "g.graphml")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "secret-text" not in result.stderr
    assert not (tmp_path / "g.graphml").exists()


def test_bare_era_files_are_refused_by_name(tmp_path: Path) -> None:
    bare = tmp_path / "rollout-2025-08-01.jsonl"
    bare.write_text('{"id":"x","timestamp":"2025-08-01T00:00:00Z","instructions":null}\n')
    with pytest.raises(SessionFileError, match="bare format"):
        read_session_file(bare)


def test_a_torn_last_line_is_a_session_still_being_written(tmp_path: Path) -> None:
    path = sf.paginated_2026(tmp_path)
    with path.open("a") as handle:
        handle.write('{"timestamp":"2026-09-02T08:00:30.000Z","ordinal":30,"type":"event_m')
    graph = load_session_graph(path)
    rollout = node(graph, "Rollout", sf.TPAGE)
    assert rollout["torn_files"] == [str(path)] and rollout["partial"] is True
    assert rollout["status"] == "running" and "ended_at_unix_ms" not in rollout
    assert node(graph, "Thread", sf.TPAGE)["status"] == "running"
    # Everything before the torn line is there: the two responses of the turn.
    assert [row["inference_calls"] for row in rows(graph, "token-usage")] == [2]


def test_a_last_line_that_is_no_record_cut_short_is_an_error(tmp_path: Path) -> None:
    """Only a JSON text cut off is a write in progress; other bytes there are a bad line."""
    path = sf.paginated_2026(tmp_path)
    with path.open("a") as handle:
        handle.write('{"type":"event_msg"} my-secret')
    with pytest.raises(SessionFileError) as err:
        read_session_file(path)
    lines = path.read_text().count("\n") + 1
    assert str(err.value).startswith(f"{path}: line {lines}: invalid JSON")
    assert "my-secret" not in str(err.value)


def test_a_bad_line_before_the_end_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = sf.paginated_2026(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"type":"response_item","payload":{"text":"my-secret"}\n'
    path.write_text("".join(lines))
    with pytest.raises(SessionFileError) as err:
        read_session_file(path)
    assert str(err.value).startswith(f"{path}: line 4: invalid JSON")
    assert "my-secret" not in str(err.value)


def test_unknown_line_item_event_and_turn_item_types_are_skipped_and_counted(
    graph: nx.MultiDiGraph,
) -> None:
    # legacy_2025 writes one of each unknown line, item and event type;
    # paginated_2026 one unknown TurnItem type. ghost_snapshot is known and ignored.
    assert json.loads(node(graph, "Rollout", sf.T2025)["skipped"]) == {
        "event:future_event": 1, "item:hologram": 1, "line:future_line": 1}
    assert json.loads(node(graph, "Rollout", sf.TPAGE)["skipped"]) == {"turn_item:Hologram": 1}
    assert json.loads(node(graph, "Rollout", sf.T2026)["skipped"]) == {}


# --- grouping and eras ------------------------------------------------------------


def test_each_root_session_is_one_rollout_with_its_era(graph: nx.MultiDiGraph) -> None:
    rollouts = {data["object_id"]: data for _, data in graph.nodes(data=True)
                if data["label"] == "Rollout"}
    assert {rollout_id: data["era"] for rollout_id, data in rollouts.items()} == {
        sf.T2025: "envelope-2025", sf.T2026: "legacy-2026", sf.TPAGE: "paginated-2026"}
    assert all(data["source"] == "session-rollout" for data in rollouts.values())
    # The child file joined its parent's rollout.
    assert len(rollouts[sf.T2026]["session_files"]) == 2
    assert sorted(graph.graph["trace_ids"]) == sorted(rollouts)


def test_a_child_without_ordinals_drops_the_copied_parent_history(
    graph: nx.MultiDiGraph, tmp_path: Path,
) -> None:
    child = node(graph, "Thread", sf.TCHILD)
    parent = sf.legacy_2026(tmp_path)
    # Everything copied: the parent's header and each of its lines.
    assert child["copied_history_lines"] == len(parent.lines)
    assert child["parent_thread_id"] == sf.T2026 and child["origin"] == "spawned"
    assert child["agent_path"] == "/root/helper" and child["agent_role"] == "explorer"
    # Its own items only: the task and the answer.
    assert [row["preview"] for row in rows(graph, "transcript", thread=sf.TCHILD)] == [
        "look around", "Looked around."]


# --- token usage -----------------------------------------------------------------


def test_token_usage_drops_re_emitted_token_count_rows(graph: nx.MultiDiGraph) -> None:
    usage = [row for row in rows(graph, "token-usage") if row["thread_id"] == sf.T2025]
    # legacy_2025: four advancing token_count rows, two of them written twice. Turn 1 is
    # the first two responses (1000+1200 input, 0+1000 cached, 50+30 output, 10+0
    # reasoning); turn 2 the next two (1300+1400, 1200+1300, 20+15, 10+0).
    assert usage == tokens(
        (sf.T2025, f"{sf.T2025}:turn:1", "gpt-5-codex", 2, 2200, 1000, 80, 10),
        (sf.T2025, f"{sf.T2025}:turn:2", "gpt-5-codex", 2, 2700, 2500, 35, 10),
    )
    assert node(graph, "Thread", sf.T2025)["dropped_token_counts"] == 2


def test_token_usage_ignores_replayed_parent_history(graph: nx.MultiDiGraph) -> None:
    usage = [row for row in rows(graph, "token-usage") if row["thread_id"] in (sf.T2026,
                                                                               sf.TCHILD)]
    # legacy_2026 turn-b1: four responses 1500+1600+1700+1800 input, 0+1500+1600+1700
    # cached, 30+20+10+25 output, 5 reasoning (one row re-emitted); turn-b2 and turn-b3
    # one each. The child copies all six parent rows but counts only its own 700/9.
    assert usage == tokens(
        (sf.T2026, "turn-b1", "gpt-5.2-codex", 4, 6600, 4800, 85, 5),
        (sf.T2026, "turn-b2", "gpt-5.2-codex", 1, 1900, 1800, 15, 0),
        (sf.T2026, "turn-b3", "gpt-5.2-codex", 1, 900, 0, 12, 0),
        (sf.TCHILD, "turn-c1", "gpt-5.2-codex", 1, 700, 0, 9, 0),
    )


def test_token_usage_records_win_over_the_token_count_rows_repeating_them(
    graph: nx.MultiDiGraph,
) -> None:
    # paginated_2026: two token_usage_records (5000/4000/40/8 and 5100/5000/12/0); the
    # token_count rows after each repeat those numbers and are not counted again.
    assert [row for row in rows(graph, "token-usage") if row["thread_id"] == sf.TPAGE] == \
        tokens((sf.TPAGE, "turn-p1", "gpt-5.5", 2, 10100, 9000, 52, 8))
    first = node(graph, "InferenceCall", "resp_p1")
    assert first["usage_source"] == "token_usage_record"
    assert first["ended_at_unix_ms"] == 1788336004500 and "started_at_unix_ms" not in first


def test_example_token_usage_counts_the_child_once(example: nx.MultiDiGraph) -> None:
    # generate_sessions.py: root records 6000/0/60/20, 6100/6000/25/0, 6200/6100/18/0,
    # 6300/6200/30/5; child records 3000/0/40/10 and 3100/3000/15/0. The child file
    # also holds a copy of resp_root_1 (before subagent_history_start_ordinal).
    assert rows(example, "token-usage") == tokens(
        (ROOT, "turn-root-1", "gpt-5.5", 4, 24600, 18300, 133, 25),
        (CHILD, "turn-child-1", "gpt-5.5-mini", 2, 6100, 3000, 55, 10),
    )
    # The copy: the root's header, turn_context, task_started, user message, spawn call,
    # token_usage_record and its token_count row.
    assert node(example, "Thread", CHILD)["copied_history_lines"] == 7


# --- turns, tools, terminals, compactions ------------------------------------------


def test_turns_have_status_and_duration_from_turn_events(graph: nx.MultiDiGraph) -> None:
    turns = {turn: node(graph, "Turn", turn) for turn in ("turn-b1", "turn-b2", "turn-b3")}
    # task_complete duration_ms 9000; turn_aborted 4000; task_complete with error, 5000.
    assert [(t["status"], t["duration_ms"]) for t in turns.values()] == [
        ("completed", 9000), ("aborted", 4000), ("failed", 5000)]
    assert turns["turn-b3"]["error"] == "stream disconnected"
    # The command running when turn-b2 was interrupted never got an output.
    assert rows(graph, "failed-operations", trace=sf.T2026) == [
        {"label": "TerminalOperation", "object_id": "terminal_operation:call_B4",
         "status": "aborted", "thread_id": sf.T2026,
         "causing_inference_call_id": f"{sf.T2026}:inference:5", "started_seq": 22},
        {"label": "ToolCall", "object_id": "call_B4", "status": "aborted",
         "thread_id": sf.T2026, "causing_inference_call_id": f"{sf.T2026}:inference:5",
         "started_seq": 22},
    ]


def test_2025_turns_split_at_user_messages(graph: nx.MultiDiGraph) -> None:
    items = rows(graph, "transcript", thread=sf.T2025)
    # Ten items: the injected environment context, then the two turns; the event copies
    # (user_message, agent_message) and the ghost snapshot are not items.
    assert [row["kind"] for row in items] == [
        "message", "message", "reasoning", "function_call", "function_call_output",
        "message", "message", "function_call", "function_call_output", "message"]
    turn = node(graph, "Turn", f"{sf.T2025}:turn:1")
    assert turn["turn_evidence"] == "user_message_split" and turn["status"] == "completed"


def test_terminal_session_reuse_from_unified_exec_output(graph: nx.MultiDiGraph) -> None:
    # call_B1 started `npm run dev` (session 4242, still running), call_B2 polled it,
    # call_B3 sent Ctrl-C and the process exited with 130. Seqs are line order: B1 is
    # line 5 of the rollout's merged lines, B2 line 8, B3 line 11.
    assert rows(graph, "terminal-history", terminal="4242") == [
        {"operation_id": "terminal_operation:call_B1", "kind": "exec_command",
         "started_seq": 5, "command": "npm run dev", "stdin": None, "exit_code": None,
         "status": "completed", "tool_call_id": "call_B1",
         "inference_call_id": f"{sf.T2026}:inference:1"},
        {"operation_id": "terminal_operation:call_B2", "kind": "write_stdin",
         "started_seq": 8, "command": None, "stdin": "", "exit_code": None,
         "status": "completed", "tool_call_id": "call_B2",
         "inference_call_id": f"{sf.T2026}:inference:2"},
        {"operation_id": "terminal_operation:call_B3", "kind": "write_stdin",
         "started_seq": 11, "command": None, "stdin": "\x03", "exit_code": 130,
         "status": "completed", "tool_call_id": "call_B3",
         "inference_call_id": f"{sf.T2026}:inference:3"},
    ]
    # Wall time 1.0012 s from the output text.
    first = node(graph, "TerminalOperation", "terminal_operation:call_B1")
    assert (first["duration_ms"], first["duration_source"]) == (1001, "output_text")


def test_exit_codes_and_durations_from_the_best_evidence(graph: nx.MultiDiGraph) -> None:
    def evidence(operation: str) -> tuple[Any, ...]:
        data = node(graph, "TerminalOperation", f"terminal_operation:{operation}")
        return data.get("exit_code"), data["duration_ms"], data["duration_source"]

    # 2025 JSON metadata: exit 0 in 0.2 s, exit 1 in 0.05 s.
    assert evidence("call_A1") == (0, 200, "output_metadata")
    assert evidence("call_A2") == (1, 50, "output_metadata")
    # Paginated: the CommandExecution item (48 ms) wins over the output's wall time (50 ms).
    assert evidence("call_P1") == (0, 48, "command_execution")


def test_compaction_from_the_compacted_line(graph: nx.MultiDiGraph) -> None:
    # legacy_2026 line 28 is the compacted line; 11 own items were live before it (8 of
    # turn-b1, 2 of turn-b2, the user message of turn-b3); two replacement items.
    assert rows(graph, "compactions") == [{
        "compaction_id": f"{sf.T2026}:compaction:L28", "thread_id": sf.T2026,
        "installed_at_unix_ms": 1773133227000, "request_ids": [], "request_statuses": [],
        "failed_requests": 0, "input_items": 11, "replacement_items": 2,
        "marker_item_id": f"{sf.T2026}:L28"}]


# --- the multi-agent example, query by query ----------------------------------------


def test_example_agent_tree_and_result_path(example: nx.MultiDiGraph) -> None:
    assert rows(example, "agent-tree") == [
        {"thread_id": ROOT, "agent_path": "/root", "parent_thread_id": None,
         "task_name": None, "agent_role": None, "status": "completed",
         "spawn_tool_call_id": None, "spawn_edge_id": None, "spawn_target": None,
         "result_edge_ids": []},
        {"thread_id": CHILD, "agent_path": "/root/todo_counter", "parent_thread_id": ROOT,
         "task_name": "todo_counter", "agent_role": "worker", "status": "completed",
         "spawn_tool_call_id": "call_spawn_1", "spawn_edge_id": "spawn_agent:call_spawn_1",
         "spawn_target": "item", "result_edge_ids": [f"agent_result:{ROOT}:L13"]},
    ]
    # The child's final answer reached the root as the inter_agent_communication line 13.
    assert rows(example, "agent-result-path", thread=CHILD) == [{
        "edge_id": f"agent_result:{ROOT}:L13", "child_thread_id": CHILD,
        "source_item_id": "msg_child_final", "target_item_id": f"{ROOT}:L13",
        "parent_thread_id": ROOT, "spawn_tool_call_id": "call_spawn_1"}]
    has_child = [data for _, _, data in example.edges(data=True)
                 if data["label"] == "HAS_CHILD"]
    assert [edge["derived_by"] for edge in has_child] == [["parent_thread_id", "spawn_output"]]


def test_example_causal_queries(example: nx.MultiDiGraph) -> None:
    # The child's grep: exec_command call fc_grep_1, answered by resp_child_1.
    assert rows(example, "inference-for-terminal-op", operation="terminal_operation:call_grep_1") \
        == [{"operation_id": "terminal_operation:call_grep_1", "tool_call_id": "call_grep_1",
             "code_cell_id": None, "source_item_id": "fc_grep_1",
             "inference_call_id": "resp_child_1", "thread_id": CHILD,
             "codex_turn_id": "turn-child-1", "model": "gpt-5.5-mini"}]
    # No request snapshots: the chain ends at the inference that started the tool.
    assert [(row["label"], row["object_id"], row["via"])
            for row in rows(example, "causal-chain", node="terminal_operation:call_grep_1")] == [
        ("TerminalOperation", "terminal_operation:call_grep_1", None),
        ("ToolCall", "call_grep_1", "EXECUTED"),
        ("InferenceCall", "resp_child_1", "STARTED")]
    assert rows(example, "tool-calls-of-inference", inference="resp_root_1") == [{
        "tool_call_id": "call_spawn_1", "tool_name": "spawn_agent", "code_cell_id": None,
        "status": "completed", "terminal_operation_id": None, "terminal_id": None,
        "command": None, "exit_code": None}]
    # process_id 7001 of the CommandExecution item; line order puts the call 15th.
    assert rows(example, "terminal-history", terminal="7001") == [{
        "operation_id": "terminal_operation:call_grep_1", "kind": "exec_command",
        "started_seq": 15, "command": "grep -rn TODO src/ | wc -l", "stdin": None,
        "exit_code": 0, "status": "completed", "tool_call_id": "call_grep_1",
        "inference_call_id": "resp_child_1"}]
    assert rows(example, "failed-operations") == []
    assert rows(example, "compactions") == []
    # 21 ms from the CommandExecution item; wait_agent from line 10 (t+9 s) to its
    # output at the child's final time (t+22 s).
    assert rows(example, "slowest", n=1) == [
        {"label": "TerminalOperation", "object_id": "terminal_operation:call_grep_1",
         "duration_ms": 21, "status": "completed", "started_seq": 15},
        {"label": "ToolCall", "object_id": "call_wait_1", "duration_ms": 13000,
         "status": "completed", "started_seq": 10}]


def test_example_transcripts_and_provenance(example: nx.MultiDiGraph) -> None:
    assert [(row["role"], row["kind"], row["preview"])
            for row in rows(example, "transcript", thread=CHILD)] == [
        ("user", "message", "Count the TODO lines under src/."),
        ("assistant", "function_call", '{"cmd":"grep -rn TODO src/ | wc -l",'
                                       '"workdir":"/work/shop","yield_time_ms":10000}'),
        ("tool", "function_call_output", "Chunk ID: 5e1f0a\nWall time: 0.0200 seconds\n"
                                         "Process exited with code 0\nOriginal token count: 1"
                                         "\nOutput:\n3\n"),
        ("assistant", "message", "Found 3 TODO lines in src/.")]
    assert len(rows(example, "transcript", thread=ROOT)) == 9
    assert rows(example, "item-provenance", item="msg_child_final") == [{
        "relation": "responded_with", "label": "InferenceCall", "object_id": "resp_child_2",
        "position": 0, "producer_type": None}]


# --- honesty and the schema ---------------------------------------------------------


def test_every_edge_is_derived_by_a_declared_session_rule(
    graph: nx.MultiDiGraph, example: nx.MultiDiGraph,
) -> None:
    for each in (graph, example):
        for _, _, data in each.edges(data=True):
            rule_names = [rule.name for rule in SESSION_RULES[data["label"]]]
            assert data["provenance"] == "derived"
            assert data["derived_by"] and set(data["derived_by"]) <= set(rule_names)
            assert set(data) <= SCHEMA.edge_attrs(data["label"]).keys(), data["label"]
        for _, data in each.nodes(data=True):
            assert set(data) <= SCHEMA.node_attrs(data["label"]).keys(), data["label"]


def test_what_sessions_lack_is_absent(graph: nx.MultiDiGraph) -> None:
    labels = {data["label"] for _, data in graph.nodes(data=True)}
    edges = {data["label"] for _, _, data in graph.edges(data=True)}
    assert not labels & {"RawPayload", "CompactionRequest"}
    assert not edges & {"PROMPTED", "EVIDENCED_BY", "REQUESTED", "HAS_RAW_PAYLOAD"}
    inferences = [data for _, data in graph.nodes(data=True) if data["label"] == "InferenceCall"]
    assert inferences and not any("started_at_unix_ms" in data for data in inferences)


# --- commands -----------------------------------------------------------------------


def test_load_a_sessions_directory_to_graphml_and_query_it(tmp_path: Path, eras: Path,
                                                           graph: nx.MultiDiGraph) -> None:
    target = tmp_path / "all.graphml"
    runner = CliRunner()
    result = runner.invoke(app, ["load", str(eras), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "skipped unknown types" in result.stderr
    # Every edge of a session graph is derived, whatever the bundle schema says.
    assert "HAS_ITEM (derived)" in result.stdout and "USED_TERMINAL (derived)" in result.stdout
    back = read_graphml(target)
    assert nx.utils.graphs_equal(back, graph)
    result = runner.invoke(app, ["query", "token-usage", "--bundle", str(eras), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == rows(graph, "token-usage")


def test_graphml_round_trip_keeps_the_session_graph(tmp_path: Path,
                                                    example: nx.MultiDiGraph) -> None:
    path = write_graphml(example, tmp_path / "example.graphml")
    assert nx.utils.graphs_equal(read_graphml(path), example)
    assert rows(read_graphml(path), "token-usage") == rows(example, "token-usage")


def test_readme_session_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Codex session files", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split() for line in block.splitlines() if line.strip()]
    assert [command[:2] for command in commands] == [
        ["tracegraph", "load"], ["tracegraph", "query"], ["tracegraph", "query"]]
    monkeypatch.chdir(REPO)
    for command in commands:
        args = [str(tmp_path / "s.graphml") if arg.startswith("/tmp/") else arg
                for arg in command[1:]]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
    assert nx.utils.graphs_equal(read_graphml(tmp_path / "s.graphml"), load_graph(EXAMPLE))


def test_a_query_needing_request_snapshots_says_sessions_lack_them(
    example: nx.MultiDiGraph, tmp_path: Path,
) -> None:
    message = ("query request-input needs PROMPTED edges, which Codex session rollout files "
               "cannot give (they do not record request snapshots)")
    with pytest.raises(QueryError) as err:
        rows(example, "request-input", inference="resp_root_1")
    assert str(err.value) == message
    result = CliRunner().invoke(app, ["query", "request-input", "resp_root_1", "--bundle",
                                      str(EXAMPLE)])
    assert result.exit_code == 2 and result.stderr == f"error: {message}\n"
    # Beside a bundle, the bundle's requests still answer.
    both = compose_graphs([example, load_graph(REPO / "examples" / "bundles" / "multi-agent")])
    inference = next(data["object_id"] for _, data in both.nodes(data=True)
                     if data["label"] == "InferenceCall" and data.get("request_items"))
    assert rows(both, "request-input", inference=inference)


def test_a_fork_is_its_own_rollout_with_an_attribute(tmp_path: Path) -> None:
    parent = sf.legacy_2026(tmp_path)
    sf.fork_of(tmp_path, parent)
    graph = load_session_graph(tmp_path)
    assert sorted(graph.graph["trace_ids"]) == sorted([sf.T2026, sf.TFORK])
    fork = node(graph, "Thread", sf.TFORK)
    assert fork["forked_from_id"] == sf.T2026 and fork["origin"] == "root"
    assert fork["copied_history_lines"] == len(parent.lines)
    assert not [data for _, _, data in graph.edges(data=True) if data["label"] == "HAS_CHILD"]
    # Only the fork's own response counts: 400 input, 5 output.
    assert rows(graph, "token-usage", trace=sf.TFORK) == tokens(
        (sf.TFORK, "turn-f1", None, 1, 400, 0, 5, 0))


def test_a_copied_file_of_the_same_thread_is_read_once(tmp_path: Path) -> None:
    path = sf.paginated_2026(tmp_path)
    copy = path.with_name(path.name.replace(".jsonl", " (1).jsonl"))
    shutil.copy(path, copy)
    graph = load_session_graph(tmp_path)
    assert graph.graph["trace_ids"] == [sf.TPAGE]
    assert node(graph, "Rollout", sf.TPAGE)["duplicate_files"] == [str(copy)]
    assert [row["inference_calls"] for row in rows(graph, "token-usage")] == [2]


def test_ids_reused_by_another_thread_never_merge_nodes(tmp_path: Path) -> None:
    """A child that repeats the parent's call and response ids (a copy not recognised as
    one) gets its own nodes, keyed with its thread id."""
    parent = sf.legacy_2026(tmp_path)
    child = sf.SessionWriter(sf.TCHILD, datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    child.meta(parent_thread_id=sf.T2026)
    child.function_call("exec_command", {"cmd": "npm run dev"}, "call_B1")
    child.function_output("call_B1", "Process exited with code 0\n")
    child.write(tmp_path / "child.jsonl")
    graph = load_session_graph(tmp_path)
    assert node(graph, "ToolCall", "call_B1")["thread_id"] == parent.thread_id
    copy = node(graph, "ToolCall", f"{sf.TCHILD}:call_B1")
    assert copy["thread_id"] == sf.TCHILD
    assert node(graph, "TerminalOperation",
                f"terminal_operation:{sf.TCHILD}:call_B1")["exit_code"] == 0
