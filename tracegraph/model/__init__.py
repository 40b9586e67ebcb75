"""Reduced rollout trace model (``state.json``), mirroring ``model/*.rs``."""

from tracegraph.model.conversation import *  # noqa: F403
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import *  # noqa: F403
from tracegraph.model.rollout import (
    MAP_FIELDS,
    REDUCED_TRACE_SCHEMA_VERSION,
    RolloutTrace,
    dump_state,
    load_state,
)
from tracegraph.model.runtime import *  # noqa: F403
from tracegraph.model.session import *  # noqa: F403

__all__ = [
    "MAP_FIELDS",
    "REDUCED_TRACE_SCHEMA_VERSION",
    "Dialect",
    "RolloutTrace",
    "dump_state",
    "load_state",
]
