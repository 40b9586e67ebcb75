"""``tracegraph view`` pages in a real Chromium (Debian's /usr/bin/chromium).

Playwright drives the system browser through ``executable_path``; it never
downloads one. Without a browser these tests are skipped on a developer's
machine and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracegraph.graph import load_graph
from tracegraph.graph.schema import Label
from tracegraph.queries import run_query
from tracegraph.views import extract, write_html

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = sorted(path for path in (ROOT / "examples" / "bundles").iterdir()
                 if (path / "manifest.json").is_file())
#: Every example: the bundles and the directory of session files.
SOURCES = [*BUNDLES, ROOT / "examples" / "sessions"]
CHROMIUM = os.environ.get("TRACEGRAPH_CHROMIUM", "/usr/bin/chromium")

# Drawn bars of the timeline: (node label, drawn path) for every point of every bar trace,
# read from the SVG plotly drew, matched to the trace's data by position.
DRAWN_BARS = """() => {
  const gd = document.getElementById("timeline");
  const bars = gd._fullData.filter((trace) => trace.type === "bar");
  const layers = gd.querySelectorAll(".barlayer .trace.bars");
  const out = [];
  bars.forEach((trace, i) => {
    layers[i].querySelectorAll(".point path").forEach((path, j) => {
      const node = trace.customdata[j];
      out.push({ kind: trace.meta.kind, label: trace.meta.kind === "aggregate" ? null
                 : window.tracegraphView.data.nodes[node].label, node,
                 d: path.getAttribute("d") });
    });
  });
  return out;
}"""


def browser_required() -> bool:
    truthy = {"1", "true", "yes", "on"}
    return os.environ.get("CI", "").strip().lower() in truthy


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = None
    if shutil.which(CHROMIUM) is None:
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover - dev extra missing
        reason = f"playwright is not installed: {err}"
    if reason is not None:
        if browser_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


class Page:
    """A page of the view, recording console errors and any request it makes."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("console", lambda message: self.errors.append(message.text)
                     if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready=true]", timeout=60_000)

    def close(self) -> None:
        self.page.close()

    def chain(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.page.eval_on_selector_all(
            "#chain li.chain-step",
            "(items) => items.map((li) => ({step: Number(li.dataset.step), label: li.dataset.label,"
            " object_id: li.dataset.id, via: li.dataset.via || null,"
            " status: li.dataset.status || null}))")
        return rows

    def click_bar_of(self, node_index: int) -> None:
        """Click the middle of the drawn bar of one node, as a person would."""
        box = self.page.evaluate("""(node) => {
          const gd = document.getElementById("timeline");
          const bars = gd._fullData.filter((trace) => trace.type === "bar");
          const layers = gd.querySelectorAll(".barlayer .trace.bars");
          for (let i = 0; i < bars.length; i++) {
            if (bars[i].meta.kind !== "detail") continue;
            const j = bars[i].customdata.indexOf(node);
            if (j >= 0) {
              const r = layers[i].querySelectorAll(".point path")[j].getBoundingClientRect();
              return {x: r.x + r.width / 2, y: r.y + r.height / 2};
            }
          }
          return null;
        }""", node_index)
        assert box is not None, f"no drawn bar for node {node_index}"
        self.page.mouse.move(box["x"], box["y"])
        self.page.mouse.click(box["x"], box["y"])
        self.page.wait_for_selector("#chain li.chain-step")


@pytest.fixture(params=SOURCES, ids=lambda path: path.name)
def example(request: pytest.FixtureRequest, browser: Any, tmp_path: Path) -> Iterator[tuple[Any, Page]]:
    graph = load_graph(request.param)
    page = Page(browser, write_html(extract(graph), tmp_path / "view.html"))
    yield graph, page
    page.close()


def test_example_page_draws_every_lane_and_bar_and_chains_a_tool_call(
        example: tuple[Any, Page]) -> None:
    graph, page = example
    assert page.errors == []
    threads = [key for key, data in graph.nodes(data=True) if data["label"] == Label.THREAD]

    lanes = page.page.evaluate("""() => {
      const gd = document.getElementById("timeline");
      const drawn = gd.querySelectorAll(".layer-below .shapelayer path");
      return Array.from(drawn, (path) => gd._fullLayout.shapes[Number(path.dataset.index)].name);
    }""")
    assert sorted(lanes) == sorted(f"lane-{i}" for i in range(len(threads)))
    labels = page.page.eval_on_selector_all("#timeline .annotation-text",
                                            "(texts) => texts.map((text) => text.textContent)")
    view = extract(graph)
    assert [view.lane_name(thread) for thread in view.threads] == labels

    drawn = page.page.evaluate(DRAWN_BARS)
    detail = [bar for bar in drawn if bar["kind"] == "detail"]
    assert all(bar["d"] and bar["d"] != "M0,0Z" for bar in detail), "an empty bar was drawn"
    expected = Counter(data["label"] for _, data in graph.nodes(data=True)
                       if data["label"] in {Label.INFERENCE_CALL, Label.TOOL_CALL})
    got = Counter(bar["label"] for bar in detail)
    for label, count in expected.items():
        assert got[label] == count, label
    assert len({bar["node"] for bar in detail}) == len(detail)  # one bar per object

    markers = page.page.locator("#agents .scatterlayer .trace:last-child .point").count()
    assert markers == len(threads)

    nodes = page.page.evaluate("() => window.tracegraphView.data.nodes")
    tool = next(i for i, node in enumerate(nodes) if node["label"] == Label.TOOL_CALL)
    page.click_bar_of(tool)
    assert page.page.locator("#selected-id").inner_text() == nodes[tool]["id"]
    assert page.chain() == run_query(graph, "causal-chain", node=nodes[tool]["key"])
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requests), page.requests


def test_failure_link_lists_failed_objects_and_selects_them(browser: Any, tmp_path: Path) -> None:
    graph = load_graph(ROOT / "examples" / "bundles" / "upstream-interrupt")
    view = extract(graph)
    page = Page(browser, write_html(view, tmp_path / "view.html"))
    try:
        link = page.page.locator("#failure-link")
        failures = view.summary["failures"]
        assert link.inner_text() == f"{len(failures)} failures"
        link.click()
        items = page.page.locator("#failure-list li")
        assert items.count() == len(failures)
        items.first.click()
        first = failures[0]
        assert page.page.locator("#selected-id").inner_text() == first["object_id"]
        assert page.chain() == run_query(graph, "causal-chain", node=first["key"])
        assert page.errors == []
    finally:
        page.close()


def test_busy_window_is_aggregated_until_zoomed_in(browser: Any, tmp_path: Path) -> None:
    """More spans in view than max_bars: buckets; clicking a bucket zooms into it."""
    graph = load_graph(ROOT / "examples" / "bundles" / "multi-agent")
    view = extract(graph)
    page = Page(browser, write_html(view, tmp_path / "view.html", max_bars=5))
    try:
        drawn = page.page.evaluate(DRAWN_BARS)
        assert drawn and {bar["kind"] for bar in drawn} == {"aggregate"}
        assert "aggregated" in page.page.locator("#timeline-hint").inner_text()
        before = page.page.evaluate("() => document.getElementById('timeline')._fullLayout"
                                    ".xaxis.range.slice()")
        box = page.page.locator("#timeline .barlayer .trace.bars .point path").first.bounding_box()
        assert box is not None
        page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.page.wait_for_function(
            "(before) => document.getElementById('timeline')._fullLayout.xaxis.range[1] -"
            " document.getElementById('timeline')._fullLayout.xaxis.range[0] <"
            " (before[1] - before[0]) / 10", arg=before)
        assert page.errors == []
    finally:
        page.close()
