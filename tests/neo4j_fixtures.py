"""Pytest fixtures that give tests a real Neo4j server.

Register them from ``tests/conftest.py`` with::

    pytest_plugins = ["tests.neo4j_fixtures"]

The server comes from :func:`tracegraph.neo4j_harness.provision_neo4j` (an explicit
``TRACEGRAPH_NEO4J_URI``, else testcontainers when Docker answers, else the in-process
neo4j-harness JVM), once per session. When none can be had the tests that use it are
skipped, except under ``CI=true`` or ``TRACEGRAPH_REQUIRE_NEO4J=1``, where that fails them.

``neo4j_driver`` deletes every node before each test: point ``TRACEGRAPH_NEO4J_URI``
only at a disposable database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tracegraph.neo4j_harness import Neo4jServer, provision_neo4j

if TYPE_CHECKING:
    from neo4j import Driver

__all__ = ["neo4j_driver", "neo4j_required", "neo4j_server"]


def neo4j_required() -> bool:
    """True when a missing Neo4j must fail the run (CI) rather than skip tests."""
    truthy = {"1", "true", "yes", "on"}
    return (
        os.environ.get("CI", "").strip().lower() in truthy
        or os.environ.get("TRACEGRAPH_REQUIRE_NEO4J", "").strip().lower() in truthy
    )


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jServer]:
    """One running Neo4j for the whole session, stopped at its end."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(provision_neo4j())
        except Exception as exc:
            reason = f"no Neo4j server available: {exc}"
            if neo4j_required():
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
        yield server


@pytest.fixture
def neo4j_driver(neo4j_server: Neo4jServer) -> Iterator[Driver]:
    """A driver for ``neo4j_server`` whose database has been emptied for this test."""
    driver = neo4j_server.driver()
    try:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j_server.database)
        yield driver
    finally:
        driver.close()
