"""Pause CPython's cyclic garbage collector while a large structure is built.

Replaying, projecting and drawing a long rollout allocate millions of small
containers that stay alive and hold no reference cycles; the collector would
scan the growing heap again and again (a third or more of the time on the
1,500-turn benchmark) to free nothing. Reference counting still frees garbage
as it goes; the collector runs again once the block ends, and does not walk
what the block built before it has to (a walk of the young generation, now the
whole new structure, would otherwise land on the next allocations).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (nested blocks are fine)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What the block built goes to the oldest generation without a walk
            # (freeze, then unfreeze), unless something else froze objects.
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
