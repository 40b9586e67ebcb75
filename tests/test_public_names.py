"""Every public module says what it exports: an ``__all__`` that names only what the
module defines or deliberately re-exports, so ``from tracegraph.x import *`` (and the
package namespaces built from them) carry no stray imports such as ``Field``."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import tracegraph


def _public_modules() -> list[str]:
    names = ["tracegraph"]
    for module in pkgutil.walk_packages(tracegraph.__path__, "tracegraph."):
        if not any(part.startswith("_") for part in module.name.split(".")):
            names.append(module.name)
    return sorted(names)


@pytest.mark.parametrize("name", _public_modules())
def test_public_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list | tuple), f"{name} has no __all__"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    for public in exported:
        assert hasattr(module, public), f"{name}.__all__ names {public}, which it lacks"
        value = getattr(module, public)
        # A name imported from typing or pydantic (``Field``, ``Annotated``) is never what
        # a tracegraph module exports; an alias it defines with them (``Source =
        # Literal[...]``) is.
        origin = getattr(value, "__module__", "") or ""
        if not isinstance(value, types.ModuleType) and getattr(value, "__name__", None) == public:
            assert not origin.startswith(("typing", "pydantic")), f"{name} exports {public}"


def test_the_model_package_exports_no_helpers() -> None:
    import tracegraph.model as model

    star: dict[str, object] = {}
    exec("from tracegraph.model import *", star)  # the star import under test
    assert "Field" not in star and "Annotated" not in star
    assert set(star) - {"__builtins__"} == set(model.__all__)
