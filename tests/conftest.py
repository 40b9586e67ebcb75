from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import close_open_writers

pytest_plugins = ["tests.neo4j_fixtures"]


@pytest.fixture(autouse=True)
def _close_trace_writers() -> Iterator[None]:
    """Close the event logs of writers a test opened (Rust drops them)."""
    yield
    close_open_writers()
