"""serde_json's syntax errors against the reference: the same words, at the same position.

    python benchmarks/serde_syntax_diff.py --cases 2000 --seed 0

Each case damages one valid document (one to three byte deletions, insertions,
replacements or a truncation, as in ``tests/test_serde_syntax.py``; the documents
are that module's seeds and the example bundles' payloads) and has the reference
reducer parse it, alternately as a payload file (``from_reader``) and, when it is
still UTF-8, as a ``wait`` tool's function arguments (``from_str``). Where the
reference reports a syntax error, ``serde_syntax.syntax_error`` must give its
message exactly; where it parses the document, ``syntax_error`` must give None.
Prints the counts and the first mismatches (both messages). Exit status 1 on any
mismatch.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_serde_syntax import (  # noqa: E402
    MUTATION_BYTES,
    MUTATION_KINDS,
    SEED_DOCUMENTS,
    Mutation,
    mutate,
    reference_syntax_error,
)
from tracegraph.authoring import reference_reducer  # noqa: E402
from tracegraph.bundle.files import is_utf8  # noqa: E402
from tracegraph.bundle.serde_syntax import Source, syntax_error  # noqa: E402


def example_payloads() -> list[bytes]:
    return [path.read_bytes()
            for path in sorted((ROOT / "examples" / "bundles").glob("*/payloads/*.json"))]


def make_case(rng: random.Random, payloads: list[bytes], index: int) -> tuple[bytes, Source]:
    # Half the small seeds (every construct), half real payloads (mostly strings).
    document = rng.choice(SEED_DOCUMENTS if rng.random() < 0.5 else payloads)
    changes: list[Mutation] = [
        (rng.choice(MUTATION_KINDS), rng.randrange(len(document) + 1),
         rng.choice(MUTATION_BYTES))
        for _ in range(rng.randint(1, 3))
    ]
    # Truncations would make most cases EOF errors: keep them to about one in six.
    if any(kind == "truncate" for kind, _, _ in changes) and rng.random() < 0.5:
        changes = [change for change in changes if change[0] != "truncate"] or changes[:1]
    data = mutate(document, changes)
    source: Source = "slice" if index % 2 and is_utf8(data) else "reader"
    return data, source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=8, help="reference runs at once")
    parser.add_argument("--show", type=int, default=10, help="mismatches to print")
    args = parser.parse_args(argv)
    if reference_reducer() is None:
        print("the reference reducer (../shared/tools/reference-reduce) is not on this machine")
        return 2

    rng = random.Random(args.seed)
    payloads = example_payloads()
    cases = [make_case(rng, payloads, index) for index in range(args.cases)]
    started = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        references = list(pool.map(lambda case: reference_syntax_error(*case), cases))

    counts: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    mismatches: list[str] = []
    for (data, source), reference in zip(cases, references, strict=True):
        mine = syntax_error(data, source=source)
        counts[f"{source} {'parsed' if reference is None else 'refused'}"] += 1
        if reference is not None:
            messages[reference.split(" at line ")[0]] += 1
        if mine == reference:
            counts["match"] += 1
        else:
            counts["mismatch"] += 1
            mismatches.append(f"  {source} {data[:200]!r}\n    reference:  {reference}\n"
                              f"    tracegraph: {mine}")

    print(f"{args.cases} cases (seed {args.seed}) in {time.monotonic() - started:.1f} s")
    for key in ("reader refused", "reader parsed", "slice refused", "slice parsed"):
        print(f"  {key}: {counts[key]}")
    print("messages:")
    for message, count in messages.most_common():
        print(f"  {count:6}  {message}")
    print(f"match: {counts['match']}/{args.cases} "
          f"({100 * counts['match'] / max(1, args.cases):.2f}%), mismatch: {counts['mismatch']}")
    for text in mismatches[: args.show]:
        print(text)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
