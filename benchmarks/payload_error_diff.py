"""Payload errors against the reference: the same outcome, in the same words.

    python benchmarks/payload_error_diff.py --cases 1500 --seed 0 [--syntax]

Each case copies one seed-format example bundle and changes one payload file: one or
two changes of ``event_error_diff.py`` (a value of another type, a key deleted or
repeated); with ``--syntax``, its JSON also broken at a random byte. Both reducers
replay it (tracegraph with ``strict=True``, as the reference keeps a torn last line as
an error). It matches when both write the same ``state.json`` bytes or both refuse the
bundle with the same error (the reference's words, values left out, in tracegraph's).
Two changes find what one cannot: which of two bad fields serde reports first (a
``Value``'s map is read in key order, a missing field only at the end).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.event_error_diff import (  # noqa: E402
    break_syntax,
    diff_arguments,
    mutate,
    require_reference,
)
from benchmarks.fuzz_reference import outcome  # noqa: E402

SEED_BUNDLES = sorted(path for path in (ROOT / "examples" / "bundles").iterdir()
                      if not path.name.startswith("upstream"))


def changed_payload(text: str, rng: random.Random, *, syntax: bool) -> str | None:
    """The payload text with one or two changes (``None``: not JSON to begin with)."""
    try:
        compact = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return None
    changed = compact
    for _ in range(2 if rng.random() < 0.7 else 1):
        try:
            changed = mutate(changed, rng)
        except IndexError:  # nothing left to change (an empty map, a scalar)
            break
    return break_syntax(changed, rng) if syntax else changed


def main() -> None:
    args = diff_arguments(__doc__.splitlines()[0], "payload").parse_args()
    require_reference()
    rng = random.Random(args.seed)
    counts: dict[str, int] = {}
    shown = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(args.cases):
            source = rng.choice(SEED_BUNDLES)
            bundle = Path(tmp) / f"case-{case}" / "bundle"
            shutil.copytree(source, bundle)
            payload = rng.choice(sorted((bundle / "payloads").glob("*.json")))
            text = changed_payload(payload.read_text(encoding="utf-8"), rng, syntax=args.syntax)
            if text is None:
                continue
            payload.write_text(text, encoding="utf-8")
            result, detail = outcome(bundle, bundle.parent / "reference-state.json")
            counts[result] = counts.get(result, 0) + 1
            if not result.startswith("same") and shown < args.show:
                shown += 1
                print(f"case {case} ({source.name}, {payload.name}): {result}\n  {detail}")
            shutil.rmtree(bundle.parent)
    print(json.dumps(dict(sorted(counts.items()))))


if __name__ == "__main__":
    main()
