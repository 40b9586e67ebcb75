"""Which objects of the trace under construction the applied events reached.

A following consumer (``tracegraph watch``) re-projects only what changed. Every
domain reaches a model object through the rollout's maps by its key (indexes
hold ids, never objects; see ``state.py``), so a map that notes the keys looked
up, stored or removed while events are applied names a superset of the objects
those events created or changed. Only what happens while an event is applied
is noted: snapshots and projection read the maps freely.
"""

from __future__ import annotations

from typing import Any

from tracegraph.model.rollout import MAP_FIELDS, RolloutTrace

__all__ = ["ChangeLog", "TrackedMap"]


class ChangeLog:
    """The keys of each rollout map touched while recording, since the last :meth:`take`."""

    def __init__(self) -> None:
        #: Set while events are applied (``Replayer.apply``): only then are keys noted.
        self.active = False
        self.keys: dict[str, set[str]] = {name: set() for name in MAP_FIELDS}

    def take(self) -> dict[str, set[str]]:
        """The touched keys per map field, and start again from none."""
        taken = self.keys
        self.keys = {name: set() for name in MAP_FIELDS}
        return taken

    def watch(self, rollout: RolloutTrace) -> None:
        """Swap the rollout's maps for tracked ones holding the same entries."""
        for name in MAP_FIELDS:
            current = getattr(rollout, name)
            if not isinstance(current, TrackedMap):
                setattr(rollout, name, TrackedMap(current, log=self, name=name))


class TrackedMap(dict[str, Any]):
    """A rollout map that notes, while its log records, every key it is asked for."""

    def __init__(self, entries: dict[str, Any], *, log: ChangeLog, name: str) -> None:
        super().__init__(entries)
        self._log = log
        self._name = name

    def _note(self, key: str) -> None:
        if self._log.active:
            self._log.keys[self._name].add(key)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._note(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._note(key)
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._note(key)
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        added = dict(*args, **kwargs)
        for key in added:
            self._note(key)
        super().update(added)

    # A scan while recording may change any entry it meets: all keys count.

    def _note_all(self) -> None:
        if self._log.active:
            self._log.keys[self._name].update(super().keys())

    def values(self) -> Any:
        self._note_all()
        return super().values()

    def items(self) -> Any:
        self._note_all()
        return super().items()

    def popitem(self) -> tuple[str, Any]:
        self._note_all()
        return super().popitem()

    def clear(self) -> None:
        self._note_all()
        super().clear()
