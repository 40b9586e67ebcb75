"""The test suite's Neo4j provisioning works against a real server (auth on)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import neo4j
import pytest

from tracegraph.neo4j_harness import POM, Neo4jServer, cache_dir, harness_version


def test_pom_pins_an_lts_harness_version() -> None:
    version = harness_version(POM)
    assert version.startswith("5.26."), version


def test_cache_lives_outside_the_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir("9.9.9") == tmp_path / "tracegraph" / "neo4j-harness" / "9.9.9"
    monkeypatch.delenv("XDG_CACHE_HOME")
    repo = Path(__file__).resolve().parents[1]
    assert repo not in cache_dir().parents


@pytest.mark.neo4j
def test_server_answers_return_1(neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer) -> None:
    records, _, _ = neo4j_driver.execute_query("RETURN 1 AS one", database_=neo4j_server.database)
    assert [r["one"] for r in records] == [1]


@pytest.mark.neo4j
def test_write_then_read_a_node(neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer) -> None:
    uid = str(uuid.uuid4())
    neo4j_driver.execute_query(
        "CREATE (:HarnessProbe {uid: $uid, payload: $payload})",
        uid=uid,
        payload=["a", "b"],
        database_=neo4j_server.database,
    )
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (p:HarnessProbe {uid: $uid}) RETURN p.payload AS payload",
        uid=uid,
        database_=neo4j_server.database,
        routing_=neo4j.RoutingControl.READ,
    )
    assert [r["payload"] for r in records] == [["a", "b"]]


@pytest.mark.neo4j
def test_each_test_starts_with_an_empty_database(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer
) -> None:
    neo4j_driver.execute_query("CREATE (:HarnessProbe)", database_=neo4j_server.database)
    with neo4j_server.driver() as other:  # a fresh driver sees the committed write
        records, _, _ = other.execute_query(
            "MATCH (n) RETURN count(n) AS n", database_=neo4j_server.database
        )
    assert records[0]["n"] == 1


@pytest.mark.neo4j
def test_authentication_is_enforced(neo4j_server: Neo4jServer) -> None:
    if neo4j_server.source == "harness":
        assert neo4j_server.password, "the harness must run with auth on by default"
    elif not neo4j_server.password:
        pytest.skip(f"{neo4j_server.source} server runs without authentication")
    wrong = (neo4j_server.user, neo4j_server.password + "-wrong")
    with (
        neo4j.GraphDatabase.driver(neo4j_server.uri, auth=wrong) as driver,
        pytest.raises(neo4j.exceptions.AuthError),
    ):
        driver.verify_connectivity()
    # The right password still works afterwards (one failure does not lock the user).
    with neo4j_server.driver() as driver:
        driver.verify_connectivity()


@pytest.mark.neo4j
@pytest.mark.skipif(
    bool(os.environ.get("TRACEGRAPH_NEO4J_URI")), reason="the expired default only exists on ours"
)
def test_default_password_no_longer_works(neo4j_server: Neo4jServer) -> None:
    if neo4j_server.source != "harness":
        pytest.skip("only the harness starts from the default neo4j/neo4j account")
    with (
        neo4j.GraphDatabase.driver(neo4j_server.uri, auth=("neo4j", "neo4j")) as driver,
        pytest.raises(neo4j.exceptions.AuthError),
    ):
        driver.verify_connectivity()
