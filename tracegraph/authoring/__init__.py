"""A kit for writing trace bundles: the vocabulary that tests, examples and benchmarks share.

It sits on the writer side, beside ``tracegraph.bundle.writer``, and is never
imported by the reducer. Each module holds one part of the vocabulary:

- ``items``: Responses API items (``codex_protocol::models::ResponseItem`` shapes);
- ``tools``: tool names to ``ToolCallKind`` as the live recorder maps them;
- ``clock``: a deterministic clock and seeded id generators;
- ``codex``: payload shapes of the live recorder (thread metadata, request
  bodies, exec begin/end events, token usage);
- ``recorder``: the recorder's hooks, one method each, over a ``TraceWriter``;
- ``reference``: where the reference reducer lives and how to run it.

Writers of other formats (for example Codex session rollout files) reuse
``items``, ``clock`` and ``codex`` and add their own writer module here.
"""

from tracegraph.authoring.clock import FakeClock, Ids
from tracegraph.authoring.reference import (
    REFERENCE_REDUCE,
    ReferenceRun,
    reference_reducer,
    run_reference,
)
from tracegraph.authoring.tools import TOOL_KINDS, tool_kind

__all__ = [
    "REFERENCE_REDUCE",
    "TOOL_KINDS",
    "FakeClock",
    "Ids",
    "ReferenceRun",
    "reference_reducer",
    "run_reference",
    "tool_kind",
]
