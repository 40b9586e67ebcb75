"""The causal-chain step query, as the runner sends it, finds its node by label."""

from __future__ import annotations

from typing import Any

import pytest

from tracegraph.graph.schema import Label
from tracegraph.queries import QueryError
from tracegraph.queries.causality import CAUSE_RULES
from tracegraph.queries.cypher import _with_label, query_text

pytestmark = pytest.mark.neo4j


def _operators(plan: Any) -> list[str]:
    found = [str(plan["operatorType"]).split("@")[0]]
    for child in plan.get("children", []):
        found += _operators(child)
    return found


@pytest.mark.parametrize("label", [Label.INFERENCE_CALL, Label.TOOL_CALL, Label.THREAD])
def test_each_step_seeks_its_node_instead_of_scanning_every_node(
        neo4j_driver: Any, label: Label) -> None:
    key = f"t/{label.value}/x"
    rules = [[lab.value, rel.value, src.value, rank] for lab, rel, src, rank in CAUSE_RULES]
    with neo4j_driver.session() as session:
        result = session.run("EXPLAIN " + _with_label(query_text("causal-chain"), key),
                             key=key, visited=[key], rules=rules)
        operators = _operators(result.consume().plan)
    assert "AllNodesScan" not in operators, operators


def test_the_label_goes_on_the_query_not_on_a_comment_that_spells_the_pattern() -> None:
    text = "// the runner labels (n {key: $key})\nMATCH (n {key: $key}) RETURN n\n"
    assert _with_label(text, "t/ToolCall/x") == (
        "// the runner labels (n {key: $key})\nMATCH (n:ToolCall {key: $key}) RETURN n\n")


@pytest.mark.parametrize("text", ["MATCH (n) RETURN n", "// (n {key: $key})\nMATCH (n) RETURN n",
                                  "MATCH (n {key: $key}) MATCH (n {key: $key}) RETURN n"])
def test_a_step_query_without_exactly_one_unlabelled_node_is_refused(text: str) -> None:
    with pytest.raises(QueryError, match="exactly once"):
        _with_label(text, "t/ToolCall/x")
