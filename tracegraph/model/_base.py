"""Shared base for reduced-model types.

The reduced model mirrors the Rust crate's serde shapes: fields keep their
declared order, ``None`` is written as ``null`` and unknown keys are ignored on
load (serde's default, since no type there denies unknown fields).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "I32",
    "I64",
    "U32",
    "U64",
    "USIZE",
    "SnakeEnum",
    "TraceModel",
]


# Rust integer widths; serde rejects out-of-range values, and so do these.
U64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
I64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
U32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
I32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
USIZE = U64


class TraceModel(BaseModel):
    """Base class of every reduced-trace model."""

    model_config = ConfigDict(extra="ignore", frozen=False, use_enum_values=False)


class SnakeEnum(StrEnum):
    """A unit enum serialized as its snake_case name."""
