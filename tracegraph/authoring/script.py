"""The command line every single-bundle example generator shares."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

__all__ = ["example_bundle_main"]


def example_bundle_main(doc: str | None, generate: Callable[[Path], None], bundle_dir: Path,
                        argv: list[str] | None = None) -> int:
    """Write the example bundle to ``bundle_dir``; with ``--reduce`` also its state.json,
    replayed by tracegraph in the ``auto`` dialect. ``doc``'s first line is the help."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--reduce", action="store_true",
                        help="also write state.json with tracegraph (dialect auto)")
    args = parser.parse_args(argv)
    generate(bundle_dir)
    print(bundle_dir)
    if args.reduce:
        from tracegraph.reducer import replay

        result = replay(bundle_dir, dialect="auto")
        print(f"dialect: {result.dialect} ({result.dialect_reason})")
        (bundle_dir / "state.json").write_text(result.trace.to_state_json(), encoding="utf-8")
    return 0
