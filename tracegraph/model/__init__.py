"""Reduced rollout trace model (``state.json``), mirroring ``model/*.rs``.

The package exports exactly its submodules' ``__all__``.
"""

from tracegraph.model import conversation, payload, rollout, runtime, session
from tracegraph.model.conversation import *  # noqa: F403
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import *  # noqa: F403
from tracegraph.model.rollout import *  # noqa: F403
from tracegraph.model.runtime import *  # noqa: F403
from tracegraph.model.session import *  # noqa: F403

__all__ = [
    "Dialect",
    *conversation.__all__,
    *payload.__all__,
    *rollout.__all__,
    *runtime.__all__,
    *session.__all__,
]
