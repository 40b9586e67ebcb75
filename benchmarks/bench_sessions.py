#!/usr/bin/env python3
"""Time loading long Codex session rollout files (plain and zstandard) into a graph.

Writes one synthetic 2026 session file per size with the authoring kit's
``SessionWriter`` (each turn: a user message, reasoning, an ``exec_command``
call and output, an answer, a ``token_usage_record`` and the ``token_count``
repeating it), then times ``load_session_graph`` and reports its peak RSS
growth. Shared machines give noisy numbers; say so when quoting them::

    python benchmarks/bench_sessions.py --turns 1000 5000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tracegraph.authoring import items
from tracegraph.authoring.codex import unified_exec_output, usage
from tracegraph.authoring.sessions import SessionWriter
from tracegraph.graph import load_session_graph

THREAD = "019a0000-0000-7000-8000-0000000b3c11"


def write_session(path: Path, turns: int) -> Path:
    w = SessionWriter(THREAD, datetime(2026, 9, 1, tzinfo=UTC), ordinals=True)
    w.meta(session_id=THREAD, cwd="/work/bench", source="cli", history_mode="legacy",
           base_instructions={"text": "You are Codex. " * 1000})
    totals: dict[str, int] = {}
    for turn in range(turns):
        turn_id = f"turn-{turn}"
        w.turn_context("gpt-5.5", turn_id=turn_id)
        w.event("task_started", turn_id=turn_id)
        w.message("user", f"step {turn}: run the tests " + "x" * 200, turn_id=turn_id)
        w.item(items.reasoning([f"Thinking about step {turn}."], "gAAAA" + "e" * 400))
        call = f"call_{turn}"
        w.function_call("exec_command", {"cmd": f"pytest -k case_{turn}"}, call)
        used = usage(2000 + turn, 1500, 40, 8)
        w.line("token_usage_record", {"thread_id": THREAD, "turn_id": turn_id,
                                      "response_id": f"resp_{turn}a", "usage": used})
        totals = {name: totals.get(name, 0) + value for name, value in used.items()}
        w.token_count(totals, used)
        w.function_output(call, unified_exec_output(f"{turn:06x}", 1200, "." * 800 + "\n",
                                                    exit_code=1 if turn % 7 == 0 else 0))
        w.message("assistant", f"Step {turn} done.", phase="final_answer", turn_id=turn_id)
        w.line("token_usage_record", {"thread_id": THREAD, "turn_id": turn_id,
                                      "response_id": f"resp_{turn}b", "usage": used})
        w.event("task_complete", turn_id=turn_id, duration_ms=3000)
    return w.write(path)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    print("| turns | file | MB | lines | nodes | edges | load s | peak MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for turns in args.turns:
            for suffix in (".jsonl", ".jsonl.zst"):
                path = write_session(Path(tmp) / f"rollout-{turns}{suffix}", turns)
                started = time.perf_counter()
                graph = load_session_graph(path)
                elapsed = time.perf_counter() - started
                lines = 1 + turns * 11
                print(f"| {turns} | {suffix} | {path.stat().st_size / 1e6:.1f} | {lines} | "
                      f"{graph.number_of_nodes()} | {graph.number_of_edges()} | "
                      f"{elapsed:.2f} | {peak_mib():.0f} |")
                del graph


if __name__ == "__main__":
    main()
