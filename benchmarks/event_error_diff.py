"""Event-line errors against the reference: the same words, at the same position.

    python benchmarks/event_error_diff.py --cases 2000 --seed 0

Each case takes one event line of the example bundles, changes it (a field's value
replaced by a value of another type, a field deleted or repeated, the event type
changed; with ``--syntax``, also its JSON broken at a random byte from there on:
cut short, a stray byte put in, nesting opened past the recursion limit; with
``--skipped``, instead an unknown top-level field of random, perhaps broken, JSON
put in, which serde skips by its own rules) and puts it alone in a bundle. Where the reference reducer fails to parse
the line, tracegraph must fail with the reference's message, except that values
are named by kind only (``string``, not ``string "x"``): tracegraph never echoes
trace content. Prints the counts and the first mismatches.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracegraph.authoring import reference_reducer, run_reference  # noqa: E402
from tracegraph.errors import TracegraphError  # noqa: E402
from tracegraph.reducer import replay_bundle  # noqa: E402

MANIFEST = {"schema_version": 1, "trace_id": "t", "rollout_id": "r", "root_thread_id": "th",
            "started_at_unix_ms": 5, "raw_event_log": "trace.jsonl", "payloads_dir": "payloads"}
_VALUES = ['"x"', "5", "-3", "1.5", "true", "null", "[1]", "{}", '{"a":1}', "[]",
           "18446744073709551616", "4294967296", '"é"', '{"type":"zzz"}', '{"type":5}']
def event_lines() -> list[str]:
    lines = []
    for log in sorted((ROOT / "examples" / "bundles").glob("*/trace.jsonl")):
        lines += [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def mutate(line: str, rng: random.Random) -> str:
    """One change to the line's JSON text, keeping it valid JSON."""
    event = json.loads(line)
    where = rng.choice(paths(event))
    parent: object = event
    for part in where[:-1]:
        parent = parent[part]  # type: ignore[index]
    key = where[-1]
    action = rng.random()
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    if isinstance(parent, dict) and action < 0.2:
        del parent[key]
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    if isinstance(parent, dict) and action < 0.35:
        # Repeat a key: write the object by hand with the key twice.
        marker = "\x00dup\x00"
        parent[marker] = None
        text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        repeated = json.dumps(key) + ":" + rng.choice(_VALUES)
        return text.replace(json.dumps(marker) + ":null", repeated)
    marker = "\x00value\x00"
    parent[key] = marker  # type: ignore[index]
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    replacement = rng.choice(_VALUES)
    if rng.random() < 0.15:
        replacement = " " + replacement + " "
    return text.replace(json.dumps(marker), replacement)


_BREAKS = ["", "x", "}", "]", ",", ":", '"', "\\", " ", "\x01", "[" * 200, "{" * 200,
           '"k":', "-", "1.", "tru", "01"]


def break_syntax(line: str, rng: random.Random) -> str:
    """The line cut or broken at a random byte (serde meets the syntax error there,
    unless it meets a type error before)."""
    at = rng.randrange(len(line) + 1)
    broken = rng.choice(_BREAKS)
    keep = rng.random() < 0.5  # the rest of the line after the break, or not
    return line[:at] + broken + (line[at:] if keep else "")


_ATOMS = ["1", "-0", "0.5", "1e400", "-1.5E+3", "18446744073709551616.0",
          "123456789012345678901.", '"x"', '"a\\u0000"', '"\\uD800"', "true", "null", "[]",
          "{}", '"é"']
_STRAY = ["\x01", "\t", "\\", '"', ",", "]", "}", "[", "{", ":", ".", "e", "-", "0", "x",
          " ", "\n"]


def skipped_value(rng: random.Random, depth: int = 0) -> str:
    """Random JSON text, nested up to four deep."""
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(_ATOMS)
    if roll < 0.7:
        return "[" + ",".join(skipped_value(rng, depth + 1) for _ in range(rng.randrange(4))) + "]"
    return "{" + ",".join(f'"k{index}":' + skipped_value(rng, depth + 1)
                          for index in range(rng.randrange(4))) + "}"


def add_skipped_field(line: str, rng: random.Random) -> str:
    """The line with an unknown top-level field (first, middle or last) of random JSON,
    perhaps with stray bytes in it."""
    value = skipped_value(rng)
    for _ in range(rng.randrange(3)):
        at = rng.randrange(len(value) + 1)
        value = value[:at] + rng.choice(_STRAY) + value[at:]
    where = rng.choice(['"seq":', '"payload":', None])
    if where is None:
        return line[:-1] + ',"zz":' + value + "}"
    return line.replace(where, '"zz":' + value + "," + where, 1)


def ours(bundle: Path) -> str:
    try:
        replay_bundle(bundle, dialect="seed")
    except TracegraphError as err:
        return str(err)
    return "OK"


def diff_arguments(description: str, what: str) -> argparse.ArgumentParser:
    """The options every reference-diff script takes (``what`` is what ``--syntax`` breaks)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=10)
    parser.add_argument("--syntax", action="store_true",
                        help=f"also break each {what}'s JSON at a random byte")
    return parser


def require_reference() -> None:
    if reference_reducer() is None:
        sys.exit("reference reducer not found")


def main() -> None:
    parser = diff_arguments(__doc__.splitlines()[0], "line")
    parser.add_argument("--skipped", action="store_true",
                        help="put in an unknown field of random JSON instead of a change")
    args = parser.parse_args()
    require_reference()
    rng = random.Random(args.seed)
    lines = event_lines()
    counts = {"same": 0, "different": 0, "not a parse error": 0}
    shown = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(args.cases):
            bundle = Path(tmp) / f"case-{case}"
            (bundle / "payloads").mkdir(parents=True)
            (bundle / "manifest.json").write_text(json.dumps(MANIFEST))
            line = rng.choice(lines)
            line = add_skipped_field(line, rng) if args.skipped else mutate(line, rng)
            if args.syntax:
                line = break_syntax(line, rng)
            (bundle / "trace.jsonl").write_text(line + "\n", encoding="utf-8")
            run = run_reference(bundle, bundle / "reference-state.json")
            assert run is not None
            if run.ok or "parse trace event line" not in run.stderr:
                counts["not a parse error"] += 1
                continue
            expected, actual = run.error_words, ours(bundle)
            if expected in actual:
                counts["same"] += 1
            else:
                counts["different"] += 1
                if shown < args.show:
                    shown += 1
                    print(f"case {case}: {line[:300]}\n  reference: {expected[:300]}\n"
                          f"  tracegraph: {actual.replace(str(bundle), 'BUNDLE')[:300]}")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
