"""Mutations of the example bundles for fuzzing, and the check every outcome must pass.

A case is an example bundle plus a few mutations (hypothesis strategies below):
drop, duplicate, reorder and truncate event lines; cut the log mid-line; flip
bytes; change the type of a JSON value, a number or an id; delete keys; nest
deeply; make huge strings; remove a payload or make it a FIFO or a symlink out of
the bundle. :func:`run_case` writes the mutated bundle and runs one command
in-process; the outcome must be a result (exit 0 and a whole output file) or one
``error:`` line with exit 2 and no output file: never a traceback, never a
partial file. ``tests/test_fuzz.py`` runs a few hundred cases; ``benchmarks/fuzz.py``
runs many more and counts the outcomes.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from typer.testing import CliRunner

from tracegraph.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLE_NAMES = tuple(sorted(path.name for path in EXAMPLES.iterdir() if path.is_dir()))
NEST_MARK = "__FUZZ_NEST__"
#: A case must finish in this many seconds (a FIFO read would hang for good).
CASE_TIMEOUT_S = 10

Json = Any
Op = tuple[Any, ...]


def load_example(name: str) -> dict[str, bytes]:
    """Every file of an example bundle but its golden state.json, by relative path."""
    root = EXAMPLES / name
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "state.json"
    }


_EXAMPLE_CACHE: dict[str, dict[str, bytes]] = {}


def example(name: str) -> dict[str, bytes]:
    if name not in _EXAMPLE_CACHE:
        _EXAMPLE_CACHE[name] = load_example(name)
    return dict(_EXAMPLE_CACHE[name])


# --- strategies ---------------------------------------------------------------

_index = st.integers(0, 10**6)

scalar_values = st.one_of(
    st.none(), st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2**53, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "completed", "failed", "running", "root", "exec_command",
                     "inference_started", "tool_call_ended", "user", "assistant"]),
)
json_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)

ops = st.one_of(
    st.tuples(st.just("drop"), _index),
    st.tuples(st.just("duplicate"), _index),
    st.tuples(st.just("swap"), _index, _index),
    st.tuples(st.just("move"), _index, _index),
    st.tuples(st.just("truncate_line"), _index, _index),
    st.tuples(st.just("cut_log"), _index),
    st.tuples(st.just("flip"), _index, _index, st.integers(1, 255)),
    st.tuples(st.just("retype"), _index, _index, json_values),
    st.tuples(st.just("renumber"), _index, _index,
              st.sampled_from([1, -1, 7, -(10**6), 2**32, 2**64, -(2**64)])),
    st.tuples(st.just("reid"), _index, _index, _index),
    st.tuples(st.just("delete_key"), _index, _index),
    st.tuples(st.just("nest"), _index, _index, st.sampled_from([50, 127, 128, 129, 1000, 20000])),
    st.tuples(st.just("huge_string"), _index, _index,
              st.sampled_from([10_000, 100_000, 1_000_000])),
    st.tuples(st.just("insert_raw"), _index,
              st.sampled_from([b"\x00" * 4096, b"\xff\xfe", b"{", b"[]", b"null", b"   ",
                               b'{"seq":1}', b"\xef\xbb\xbf{}"])),
    st.tuples(st.just("remove_payload"), _index),
    st.tuples(st.just("special_payload"), _index, st.sampled_from(["fifo", "symlink_out",
                                                                    "directory"])),
)

cases = st.tuples(
    st.sampled_from(BUNDLE_NAMES),
    st.lists(ops, min_size=1, max_size=3),
    st.sampled_from(["reduce", "load", "validate"]),
    st.sampled_from([(), (), ("--lenient",), ("--strict",)]),
)


# --- applying mutations -------------------------------------------------------


@dataclass
class MutableBundle:
    files: dict[str, bytes]
    #: Payload paths to create as special files when writing: path -> kind.
    specials: dict[str, str]

    @property
    def lines(self) -> list[bytes]:
        return self.files["trace.jsonl"].split(b"\n")

    def set_lines(self, lines: list[bytes]) -> None:
        self.files["trace.jsonl"] = b"\n".join(lines)

    def payload_names(self) -> list[str]:
        return sorted(name for name in self.files if name.startswith("payloads/"))

    def json_targets(self) -> list[str]:
        """``trace.jsonl:N`` for each line, then payload files, then the manifest."""
        count = len(self.lines)
        return [f"trace.jsonl:{i}" for i in range(count)] + self.payload_names() + [
            "manifest.json"]

    def read_target(self, target: str) -> bytes:
        if target.startswith("trace.jsonl:"):
            return self.lines[int(target.split(":")[1])]
        return self.files[target]

    def write_target(self, target: str, data: bytes) -> None:
        if target.startswith("trace.jsonl:"):
            lines = self.lines
            lines[int(target.split(":")[1])] = data
            self.set_lines(lines)
        else:
            self.files[target] = data


def _nodes(value: Json) -> list[tuple[tuple[Any, ...], Json]]:
    """Every (path, value) in a JSON value, the root first."""
    out: list[tuple[tuple[Any, ...], Json]] = []
    stack: list[tuple[tuple[Any, ...], Json]] = [((), value)]
    while stack:
        path, current = stack.pop()
        out.append((path, current))
        if isinstance(current, dict):
            stack.extend(((*path, key), item) for key, item in current.items())
        elif isinstance(current, list):
            stack.extend(((*path, index), item) for index, item in enumerate(current))
    return out


def _replace(value: Json, path: tuple[Any, ...], new: Json) -> Json:
    if not path:
        return new
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return value


def _delete(value: Json, path: tuple[Any, ...]) -> Json:
    if not path:
        return value
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return value


def _loads_or_empty(data: bytes) -> Json:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return {}


def _edit_json(bundle: MutableBundle, target_seed: int, node_seed: int, edit: str,
               arg: Any) -> None:
    targets = bundle.json_targets()
    # Event lines are the usual target; payloads and the manifest now and then.
    target = targets[target_seed % len(targets)]
    try:
        value = json.loads(bundle.read_target(target))
    except (ValueError, RecursionError):
        return
    nodes = _nodes(value)
    if edit == "renumber":
        nodes = [node for node in nodes if isinstance(node[1], int | float)
                 and not isinstance(node[1], bool)] or nodes
    elif edit == "reid":
        nodes = [node for node in nodes if isinstance(node[1], str)] or nodes
    path, current = nodes[node_seed % len(nodes)]
    if edit == "retype":
        value = _replace(value, path, arg)
    elif edit == "renumber":
        number = current if isinstance(current, int | float) else 0
        value = _replace(value, path, number + arg)
    elif edit == "reid":
        strings = [node[1] for node in _nodes(_loads_or_empty(
            bundle.lines[arg % len(bundle.lines)])) if isinstance(node[1], str)]
        value = _replace(value, path, strings[arg % len(strings)] if strings else "id-x")
    elif edit == "delete_key":
        value = _delete(value, path)
    elif edit == "nest":
        value = _replace(value, path, NEST_MARK)
    elif edit == "huge_string":
        value = _replace(value, path, "x" * arg)
    text = json.dumps(value, ensure_ascii=False)
    if edit == "nest":
        text = text.replace(json.dumps(NEST_MARK), "[" * arg + "]" * arg)
    bundle.write_target(target, text.encode("utf-8"))


def apply_op(bundle: MutableBundle, op: Op) -> None:
    kind = op[0]
    lines = bundle.lines
    # The log ends with a newline, so split leaves an empty last element.
    body = len(lines) - 1 if lines and lines[-1] == b"" else len(lines)
    if kind in ("drop", "duplicate", "swap", "move", "truncate_line") and body == 0:
        return
    if kind == "drop":
        del lines[op[1] % body]
    elif kind == "duplicate":
        index = op[1] % body
        lines.insert(index, lines[index])
    elif kind == "swap":
        i, j = op[1] % body, op[2] % body
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "move":
        line = lines.pop(op[1] % body)
        lines.insert(op[2] % body, line)
    elif kind == "truncate_line":
        index = op[1] % body
        lines[index] = lines[index][: op[2] % (len(lines[index]) + 1)]
    elif kind == "insert_raw":
        lines.insert(op[1] % (body + 1), op[2])
    if kind in ("drop", "duplicate", "swap", "move", "truncate_line", "insert_raw"):
        bundle.set_lines(lines)
    elif kind == "cut_log":
        data = bundle.files["trace.jsonl"]
        bundle.files["trace.jsonl"] = data[: op[1] % (len(data) + 1)]
    elif kind == "flip":
        names = ["trace.jsonl", "trace.jsonl", "manifest.json", *bundle.payload_names()]
        name = names[op[1] % len(names)]
        data = bytearray(bundle.files[name])
        if data:
            data[op[2] % len(data)] ^= op[3]
            bundle.files[name] = bytes(data)
    elif kind in ("retype", "renumber", "reid", "delete_key", "nest", "huge_string"):
        _edit_json(bundle, op[1], op[2], kind, op[3] if len(op) > 3 else None)
    elif kind in ("remove_payload", "special_payload"):
        names = bundle.payload_names()
        if names:
            name = names[op[1] % len(names)]
            del bundle.files[name]
            if kind == "special_payload":
                bundle.specials[name] = op[2]
    else:  # pragma: no cover - the strategy is closed
        raise AssertionError(f"unknown op {kind}")


def write_bundle(bundle: MutableBundle, root: Path) -> None:
    for name, data in bundle.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    outside = root.parent / "outside.json"
    outside.write_bytes(b'{"outside": true}')
    for name, kind in bundle.specials.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink_out":
            path.symlink_to(outside)
        else:
            path.mkdir()


def mutate(name: str, mutations: list[Op]) -> MutableBundle:
    bundle = MutableBundle(example(name), {})
    for op in mutations:
        apply_op(bundle, op)
    return bundle


# --- running a case -----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    #: ``ok``, ``partial`` (ok, with an unfinished final line left out), ``error``
    #: (one line, exit 2) or a failure: ``traceback``, ``bad-error``, ``partial-output``.
    kind: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.kind not in ("ok", "partial", "error")


class CaseTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"case took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _error_class(message: str) -> str:
    """A coarse bucket for counting errors: the reason without ids or numbers."""
    reason = message.removeprefix("error: ")
    for marker in (": line ", " line "):
        if marker in reason:
            reason = reason.split(marker, 1)[1]
    words = [word for word in reason.split() if not any(ch.isdigit() for ch in word)]
    return " ".join(words[:6])


def run_case(name: str, mutations: list[Op], command: str,
             flags: tuple[str, ...] = ()) -> Outcome:
    """Write the mutated bundle, run ``command`` (with ``flags``) on it, and classify
    the outcome."""
    bundle = mutate(name, mutations)
    with tempfile.TemporaryDirectory(prefix="tracegraph-fuzz-") as tmp:
        root = Path(tmp) / "bundle"
        write_bundle(bundle, root)
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        target = out_dir / ("state.json" if command == "reduce" else "graph.graphml")
        args = [command, str(root), *flags]
        if command != "validate":
            args += ["-o", str(target)]
        try:
            with time_limit(CASE_TIMEOUT_S):
                result = CliRunner().invoke(app, args)
        except CaseTimeout as err:
            return Outcome("timeout", str(err))
        leftovers = sorted(path.name for path in out_dir.iterdir() if path != target)
        if leftovers:
            return Outcome("partial-output", f"left behind: {leftovers}")
        if isinstance(result.exception, CaseTimeout):
            return Outcome("timeout", str(result.exception))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            err = result.exception
            return Outcome("traceback", f"{type(err).__name__}: {str(err)[:300]}")
        stderr = result.stderr
        if result.exit_code == 0:
            if command != "validate" and not target.exists():
                return Outcome("partial-output", "exit 0 without an output file")
            if command == "reduce":
                try:
                    json.loads(target.read_bytes())
                except ValueError:
                    return Outcome("partial-output", "state.json is not whole JSON")
            partial = "incomplete" in stderr or "left out" in stderr
            return Outcome("partial" if partial else "ok", "")
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        if (result.exit_code != 2 or len(errors) != 1 or "Traceback" in stderr
                or stderr.rstrip("\n").splitlines()[-1] != errors[0]):
            return Outcome("bad-error", f"exit {result.exit_code}: {stderr[:300]!r}")
        if target.exists():
            return Outcome("partial-output", f"output file left after an error: {errors[0]}")
        return Outcome("error", _error_class(errors[0]))
