"""The cyclic collector is paused inside the block, restored after, also when nested."""

from __future__ import annotations

import gc

import pytest

from tracegraph._gc import collector_paused


def test_paused_inside_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner block leaves the outer one paused"
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled_and_objects_stay_tracked() -> None:
    gc.disable()
    try:
        with collector_paused():
            made = [[n] for n in range(1000)]
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert gc.get_freeze_count() == 0 and all(gc.is_tracked(item) for item in made)
