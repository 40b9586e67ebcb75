/* tracegraph view: draws the trace data in #trace-data with plotly.js (inlined above). */
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("trace-data").textContent);
  const NODES = DATA.nodes;
  const SPANS = DATA.spans;
  const N_SPANS = SPANS.node.length;
  const STATUS_COLORS = {
    completed: "#43a047", failed: "#e53935", cancelled: "#fb8c00", aborted: "#8e24aa",
    running: "#1e88e5", unknown: "#9e9e9e",
  };
  // Worst first: an aggregated bar takes the colour of its worst member.
  const SEVERITY = ["failed", "aborted", "cancelled", "running", "unknown", "completed"];
  const ROW_LABELS = Object.fromEntries(DATA.rows);
  const BUCKETS = 160;
  const MAX_CHAIN = 10000;

  // --- helpers ---------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return "";
    if (ms < 1000) return ms + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    const minutes = Math.floor(ms / 60000);
    return minutes + " min " + ((ms % 60000) / 1000).toFixed(1) + " s";
  }
  function fmtInt(n) { return (n || 0).toLocaleString("en-US"); }
  function statusBadge(status) {
    if (status === null || status === undefined) return null;  // items have no status
    const name = status;
    return el("span", { class: "status status-" + (STATUS_COLORS[name] ? name : "unknown") }, name);
  }
  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function nodeTitle(index) {
    const node = NODES[index];
    return node.label + " " + node.id;
  }

  // --- causal chain: the causal-chain query's steps -----------------------------
  function chainOf(index) {
    if (DATA.chains[index]) return DATA.chains[index].map(([node, via]) => ({ node, via }));
    const steps = [{ node: index, via: null }];
    const seen = new Set([index]);
    let current = index;
    while (DATA.causes[current] && steps.length < MAX_CHAIN) {
      const [cause, via] = DATA.causes[current];
      if (seen.has(cause)) break;
      seen.add(cause);
      steps.push({ node: cause, via });
      current = cause;
    }
    return steps;
  }

  // --- header ------------------------------------------------------------------
  function drawHeader() {
    const h = DATA.header;
    const t = h.totals;
    const header = document.getElementById("header");
    const item = (term, ...value) => el("div", {}, el("dt", {}, term), el("dd", {}, ...value));
    const failureCount = h.failures.length;
    const failureLink = failureCount
      ? el("a", { class: "failures", id: "failure-link", href: "#failures",
                  onclick: (event) => { event.preventDefault(); toggleFailures(); } },
           failureCount + " failure" + (failureCount === 1 ? "" : "s"))
      : el("span", { id: "failure-link" }, "none");
    header.append(
      el("h1", {}, "Trace ", el("code", { id: "trace-id" }, h.trace_id)),
      el("dl", {},
        item("status", statusBadge(h.status)),
        item("dialect", h.dialect || "not recorded"),
        item("wall time", fmtMs(h.wall_ms)),
        item("started", h.started_at || "?"),
        item("ended", h.ended_at || "running"),
        item("threads", fmtInt(t.threads)),
        item("turns", fmtInt(t.turns)),
        item("inference calls", fmtInt(t.inference_calls)),
        item("tool calls", fmtInt(t.tool_calls)),
        item("code cells", fmtInt(t.code_cells)),
        item("terminal ops", fmtInt(t.terminal_operations)),
        item("tokens in / cached / out / reasoning",
             [t.input_tokens, t.cached_input_tokens, t.output_tokens,
              t.reasoning_output_tokens].map(fmtInt).join(" / ")),
        item("failures", failureLink)),
    );
    const list = el("ol", { id: "failure-list", hidden: "" });
    for (const failure of h.failures) {
      list.append(el("li", { "data-node": failure.node, onclick: () => select(failure.node, true) },
        nodeTitle(failure.node) + ": " + failure.reason +
        (failure.detail ? " (" + failure.detail + ")" : "")));
    }
    header.append(list);
  }
  function toggleFailures() {
    const list = document.getElementById("failure-list");
    list.hidden = !list.hidden;
  }

  // --- timeline ------------------------------------------------------------------
  // One lane per thread; inside it one row per kind of object. y grows downwards.
  const rowY = {};          // "lane|row" -> y
  const tickvals = [];
  const ticktext = [];
  const laneBands = [];     // [lane index, y0, y1]
  (function layoutRows() {
    let y = 0;
    DATA.lanes.forEach((lane, laneIndex) => {
      const rows = lane.rows.length ? lane.rows : ["turn"];
      const y0 = y;
      for (const row of rows) {
        rowY[laneIndex + "|" + row] = y;
        tickvals.push(y);
        ticktext.push(ROW_LABELS[row]);
        y += 1;
      }
      laneBands.push([laneIndex, y0 - 0.5, y - 0.5]);
    });
  })();
  const totalRows = tickvals.length;
  const spanStart = SPANS.start.map((ms) => ms / 1000);
  const spanEnd = SPANS.end.map((ms) => ms / 1000);
  const spanIndexOfNode = new Map();
  for (let i = 0; i < N_SPANS; i++) spanIndexOfNode.set(SPANS.node[i], i);
  const wall = Math.max(DATA.header.wall_ms / 1000, 0.001);
  let windowRange = [0, wall];
  let selected = null;

  function hoverText(i) {
    const node = NODES[SPANS.node[i]];
    const d = node.details;
    const lines = ["<b>" + escapeHtml(node.label) + "</b> " + escapeHtml(node.id),
                   "status: " + escapeHtml(node.status || "unknown") +
                   (SPANS.open[i] ? " (open: no end yet, drawn to the end of the trace)" : "")];
    const duration = d.duration_ms !== undefined ? d.duration_ms
      : (SPANS.open[i] ? null : SPANS.end[i] - SPANS.start[i]);
    if (SPANS.no_start[i]) lines.push("start not recorded: drawn at its end");
    else lines.push("duration: " + (duration === null ? "running" : fmtMs(duration)));
    if (d.kind) lines.push("kind: " + escapeHtml(d.kind));
    if (d.tool_name && d.tool_name !== d.kind) lines.push("tool: " + escapeHtml(d.tool_name));
    if (d.model) lines.push("model: " + escapeHtml(d.model));
    if (d.input_tokens !== undefined) {
      lines.push("tokens: in " + fmtInt(d.input_tokens) + ", cached " + fmtInt(d.cached_input_tokens) +
                 ", out " + fmtInt(d.output_tokens) + ", reasoning " + fmtInt(d.reasoning_output_tokens));
    }
    // A tool call that ran a terminal operation shows that operation's command.
    const op = node.terminal !== undefined ? NODES[node.terminal].details : d;
    const command = op.display_command || (op.stdin !== undefined ? "stdin " + JSON.stringify(op.stdin) : null);
    if (command) lines.push("command: " + escapeHtml(String(command).slice(0, 120)));
    if (op.exit_code !== undefined) lines.push("exit code: " + op.exit_code);
    return lines.join("<br>");
  }

  function visibleSpans(range) {
    const out = [];
    for (let i = 0; i < N_SPANS; i++) {
      if (spanEnd[i] >= range[0] && spanStart[i] <= range[1]) out.push(i);
    }
    return out;
  }

  function detailTraces(indices, range) {
    const minWidth = (range[1] - range[0]) * 0.002;
    const groups = new Map();
    for (const i of indices) {
      const status = NODES[SPANS.node[i]].status || "unknown";
      const key = status + (SPANS.open[i] ? "|open" : "");
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    }
    const traces = [];
    const keys = [...groups.keys()].sort();
    for (const key of keys) {
      const members = groups.get(key);
      const [status, open] = key.split("|");
      traces.push({
        type: "bar", orientation: "h", name: status + (open ? " (open)" : ""),
        legendgroup: status, showlegend: true,
        y: members.map((i) => rowY[SPANS.lane[i] + "|" + SPANS.row[i]]),
        base: members.map((i) => spanStart[i]),
        x: members.map((i) => Math.max(spanEnd[i] - spanStart[i], minWidth)),
        customdata: members.map((i) => SPANS.node[i]),
        hovertext: members.map(hoverText), hoverinfo: "text",
        marker: {
          color: STATUS_COLORS[status] || STATUS_COLORS.unknown,
          opacity: members.map((i) => (SPANS.row[i] === "turn" ? 0.45 : 0.95)),
          line: { width: 0 },
          pattern: open ? { shape: "/", fgcolor: "#ffffff", size: 6, solidity: 0.3 } : undefined,
        },
        meta: { kind: "detail" },
        width: 0.72,
      });
    }
    return traces;
  }

  function aggregateTraces(indices, range) {
    // Per row, one bar per time bucket holding any span: counts and worst status.
    const size = (range[1] - range[0]) / BUCKETS;
    const buckets = new Map();
    for (const i of indices) {
      const row = SPANS.lane[i] + "|" + SPANS.row[i];
      const first = Math.max(0, Math.floor((spanStart[i] - range[0]) / size));
      const last = Math.min(BUCKETS - 1, Math.floor((spanEnd[i] - range[0]) / size));
      for (let b = first; b <= last; b++) {
        const key = row + "|" + b;
        let bucket = buckets.get(key);
        if (!bucket) {
          bucket = { row, b, count: 0, worst: SEVERITY.length - 1, labels: {} };
          buckets.set(key, bucket);
        }
        bucket.count += 1;
        const node = NODES[SPANS.node[i]];
        const severity = SEVERITY.indexOf(node.status || "unknown");
        if (severity >= 0 && severity < bucket.worst) bucket.worst = severity;
        bucket.labels[node.label] = (bucket.labels[node.label] || 0) + 1;
      }
    }
    const byStatus = new Map();
    for (const bucket of buckets.values()) {
      const status = SEVERITY[bucket.worst];
      if (!byStatus.has(status)) byStatus.set(status, []);
      byStatus.get(status).push(bucket);
    }
    const traces = [];
    for (const [status, members] of byStatus) {
      traces.push({
        type: "bar", orientation: "h", name: status + " (aggregated)", legendgroup: status,
        showlegend: true,
        y: members.map((m) => rowY[m.row]),
        base: members.map((m) => range[0] + m.b * size),
        x: members.map(() => size * 0.92),
        customdata: members.map((m) => range[0] + m.b * size),
        hovertext: members.map((m) => m.count + " objects here (" +
          Object.entries(m.labels).map(([label, n]) => n + " " + label).join(", ") +
          ")<br>worst status: " + status + "<br>click or zoom in for single bars"),
        hoverinfo: "text",
        marker: { color: STATUS_COLORS[status], opacity: 0.8, line: { width: 0 } },
        meta: { kind: "aggregate", size },
        width: 0.72,
      });
    }
    return traces;
  }

  function selectionTrace(range) {
    if (selected === null) return [];
    const members = chainOf(selected).map((step) => spanIndexOfNode.get(step.node))
      .filter((i) => i !== undefined);
    if (!members.length) return [];
    const minWidth = (range[1] - range[0]) * 0.002;
    return [{
      type: "bar", orientation: "h", name: "causal chain", showlegend: true,
      y: members.map((i) => rowY[SPANS.lane[i] + "|" + SPANS.row[i]]),
      base: members.map((i) => spanStart[i]),
      x: members.map((i) => Math.max(spanEnd[i] - spanStart[i], minWidth)),
      customdata: members.map((i) => SPANS.node[i]),
      hovertext: members.map(hoverText), hoverinfo: "text",
      marker: { color: "rgba(0,0,0,0)", line: { color: "#111", width: 2 } },
      meta: { kind: "selection" },
      width: 0.86,
    }];
  }

  function timelineFigure(range) {
    const indices = visibleSpans(range);
    const aggregated = indices.length > DATA.max_bars;
    const traces = aggregated ? aggregateTraces(indices, range) : detailTraces(indices, range);
    document.getElementById("timeline-hint").textContent = aggregated
      ? indices.length.toLocaleString("en-US") + " objects in view: aggregated into " + BUCKETS +
        " time buckets per row (more than " + DATA.max_bars + " bars); zoom in or click a bucket for single bars"
      : indices.length + " objects in view (drag to zoom, double-click to reset)";
    const shapes = laneBands.map(([lane, y0, y1]) => ({
      type: "rect", xref: "paper", x0: 0, x1: 1, yref: "y", y0, y1, layer: "below",
      fillcolor: lane % 2 ? "#ffffff" : "#f3f6f9", line: { width: 1, color: "#d0d7de" },
      name: "lane-" + lane,
    }));
    const annotations = laneBands.map(([lane, y0]) => ({
      xref: "paper", x: 0, xanchor: "left", yref: "y", y: y0 + 0.02, yanchor: "top",
      text: "<b>" + escapeHtml(DATA.lanes[lane].name) + "</b>", showarrow: false,
      font: { size: 11, color: "#24292f" }, bgcolor: "rgba(255,255,255,0.7)", name: "lane-" + lane,
    }));
    return {
      data: [...traces, ...selectionTrace(range)],
      layout: {
        barmode: "overlay", height: Math.max(220, 90 + totalRows * 26),
        margin: { l: 150, r: 20, t: 10, b: 40 },
        xaxis: { range: range.slice(), title: { text: "seconds since the trace started" },
                 zeroline: false },
        yaxis: { tickvals, ticktext, autorange: false, range: [totalRows - 0.5, -0.5],
                 fixedrange: true },
        shapes, annotations, hovermode: "closest", dragmode: "zoom",
        legend: { orientation: "h", y: -0.18, x: 0 }, uirevision: "timeline",
      },
    };
  }

  const timeline = document.getElementById("timeline");
  const config = { displaylogo: false, responsive: true, typesetMath: false,
                   modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  function drawTimeline() {
    const figure = timelineFigure(windowRange);
    return Plotly.react(timeline, figure.data, figure.layout, config);
  }

  // --- agent tree --------------------------------------------------------------
  const agents = document.getElementById("agents");
  const treeY = new Map();
  DATA.tree.threads.forEach((thread, position) => treeY.set(thread.node, position));
  function agentFigure() {
    const threads = DATA.tree.threads;
    const x = threads.map((t) => t.depth);
    const y = threads.map((t) => treeY.get(t.node));
    const traces = [];
    const childX = [], childY = [];
    for (const t of threads) {
      if (t.parent === null || !treeY.has(t.parent)) continue;
      const parent = threads[treeY.get(t.parent)];
      childX.push(parent.depth, parent.depth, t.depth, null);
      childY.push(treeY.get(t.parent), treeY.get(t.node), treeY.get(t.node), null);
    }
    traces.push({ type: "scatter", mode: "lines", x: childX, y: childY, name: "parent → child",
                  line: { color: "#8c959f", width: 2, shape: "linear" }, hoverinfo: "skip" });
    const palette = { spawn: "#1f77b4", task: "#2ca02c", message: "#9467bd", result: "#ff7f0e",
                      close: "#d62728" };
    const annotations = [];
    const kinds = DATA.tree.kinds.map(([, name]) => name);
    // Edges between the same two threads run side by side, their labels spread along them.
    const pairs = new Map();
    for (const edge of DATA.tree.edges) {
      const key = [edge.source, edge.target].sort((a, b) => a - b).join("|");
      if (!pairs.has(key)) pairs.set(key, []);
      pairs.get(key).push(edge);
    }
    for (const group of pairs.values()) {
      group.forEach((edge, k) => {
        const s = threads[treeY.get(edge.source)], t = threads[treeY.get(edge.target)];
        let sx = s.depth, sy = treeY.get(edge.source);
        let tx = t.depth, ty = treeY.get(edge.target);
        if (edge.source === edge.target) { tx += 0.6; ty += 0.3; }
        const length = Math.hypot(tx - sx, ty - sy) || 1;
        // Shift across the pair's line whatever the edge's direction.
        const same = edge.source <= edge.target ? 1 : -1;
        const nx = -(ty - sy) / length * same, ny = (tx - sx) / length * same;
        const shift = (k - (group.length - 1) / 2) * 0.09;
        // Stop short of the markers so arrow heads stay visible.
        const trim = 0.09 / length;
        const ax = sx + (tx - sx) * trim + nx * shift, ay = sy + (ty - sy) * trim + ny * shift;
        const bx = tx - (tx - sx) * trim + nx * shift, by = ty - (ty - sy) * trim + ny * shift;
        annotations.push({
          x: bx, y: by, ax, ay, xref: "x", yref: "y", axref: "x", ayref: "y",
          showarrow: true, arrowhead: 3, arrowsize: 1.1, arrowwidth: 1.6,
          arrowcolor: palette[edge.name], text: "", name: "edge-" + edge.name,
        });
        const at = group.length > 1 ? 0.25 + 0.5 * k / (group.length - 1) : 0.5;
        annotations.push({
          x: ax + (bx - ax) * at, y: ay + (by - ay) * at, xref: "x", yref: "y", showarrow: false,
          text: edge.name + (edge.count > 1 ? " ×" + edge.count : ""),
          font: { size: 10, color: palette[edge.name] }, bgcolor: "rgba(255,255,255,0.85)",
        });
      });
    }
    for (const name of kinds) {
      traces.push({ type: "scatter", mode: "lines", x: [null], y: [null], name,
                    line: { color: palette[name], width: 2 }, hoverinfo: "skip" });
    }
    traces.push({
      type: "scatter", mode: "markers+text", x, y, name: "threads", showlegend: false,
      text: threads.map((t) => escapeHtml(DATA.lanes[treeY.get(t.node)].name)),
      textposition: "middle right",
      customdata: threads.map((t) => t.node),
      hovertext: threads.map((t) => {
        const d = NODES[t.node].details;
        return ["<b>Thread</b> " + escapeHtml(NODES[t.node].id), "path: " + escapeHtml(d.agent_path || ""),
                d.nickname ? "nickname: " + escapeHtml(d.nickname) : null,
                d.agent_role ? "role: " + escapeHtml(d.agent_role) : null,
                d.task_name ? "task: " + escapeHtml(d.task_name) : null,
                "status: " + escapeHtml(NODES[t.node].status || "unknown")].filter(Boolean).join("<br>");
      }),
      hoverinfo: "text",
      marker: { size: 16, color: threads.map((t) => STATUS_COLORS[NODES[t.node].status] || STATUS_COLORS.unknown),
                line: { color: "#24292f", width: 1 } },
      meta: { kind: "threads" },
    });
    const maxDepth = Math.max(0, ...x);
    return {
      data: traces,
      layout: {
        height: Math.max(240, 100 + threads.length * 70), margin: { l: 20, r: 20, t: 10, b: 20 },
        xaxis: { visible: false, range: [-0.3, maxDepth + 1.6] },
        yaxis: { visible: false, range: [threads.length - 0.4, -0.6] },
        annotations, hovermode: "closest", dragmode: false, showlegend: true,
        legend: { orientation: "h", y: -0.05 },
      },
    };
  }
  function drawAgentTable() {
    const table = document.getElementById("agent-table");
    table.append(el("tr", {}, ...["thread", "agent path", "nickname", "role", "task", "status"]
      .map((h) => el("th", {}, h))));
    for (const t of DATA.tree.threads) {
      const d = NODES[t.node].details;
      table.append(el("tr", { class: "agent-row", "data-node": t.node, onclick: () => select(t.node, true) },
        el("td", {}, el("code", {}, NODES[t.node].id)), el("td", {}, d.agent_path || ""),
        el("td", {}, d.nickname || ""), el("td", {}, d.agent_role || ""),
        el("td", {}, d.task_name || ""), el("td", {}, statusBadge(NODES[t.node].status))));
    }
    for (const edge of DATA.tree.edges) {
      table.append(el("tr", { class: "agent-edge", "data-rel": edge.rel },
        el("td", { colspan: "6" }, edge.name + " ×" + edge.count + ": " +
          (NODES[edge.source].details.agent_path || NODES[edge.source].id) + " → " +
          (NODES[edge.target].details.agent_path || NODES[edge.target].id))));
    }
  }

  // --- selection ---------------------------------------------------------------
  function select(index, reveal) {
    selected = index;
    const node = NODES[index];
    const details = document.getElementById("details");
    details.replaceChildren(
      el("p", {}, el("b", {}, node.label), " ", el("code", { id: "selected-id" }, node.id), " ",
         statusBadge(node.status)),
      el("table", {}, ...Object.entries(node.details).map(([name, value]) =>
        el("tr", {}, el("td", {}, name),
           el("td", {}, typeof value === "object" ? JSON.stringify(value) : String(value))))),
    );
    const chain = document.getElementById("chain");
    chain.replaceChildren(...chainOf(index).map((step, position) => el("li", {
      class: "chain-step", "data-node": step.node, "data-step": position,
      "data-label": NODES[step.node].label, "data-id": NODES[step.node].id,
      "data-via": step.via || "", "data-status": NODES[step.node].status || "",
      onclick: () => select(step.node, true),
    }, NODES[step.node].label + " ", el("code", {}, NODES[step.node].id), " ",
       statusBadge(NODES[step.node].status),
       step.via ? el("span", { class: "via" }, " ← via " + step.via) : null)));
    const span = spanIndexOfNode.get(index);
    if (reveal && span !== undefined &&
        (spanEnd[span] < windowRange[0] || spanStart[span] > windowRange[1])) {
      const width = windowRange[1] - windowRange[0];
      const middle = (spanStart[span] + spanEnd[span]) / 2;
      windowRange = [middle - width / 2, middle + width / 2];
    }
    drawTimeline();
  }

  // --- wiring ------------------------------------------------------------------
  drawHeader();
  drawAgentTable();
  const ready = Promise.all([
    drawTimeline(),
    Plotly.newPlot(agents, agentFigure().data, agentFigure().layout, config),
  ]).then(() => {
    timeline.on("plotly_click", (event) => {
      const point = event.points[0];
      if (!point) return;
      const node = point.customdata;
      if (point.data.meta && point.data.meta.kind === "aggregate") {
        windowRange = [node, node + point.data.meta.size];
        drawTimeline();
        return;
      }
      select(node, false);
    });
    timeline.on("plotly_relayout", (event) => {
      if (event["xaxis.range[0]"] !== undefined) {
        windowRange = [event["xaxis.range[0]"], event["xaxis.range[1]"]];
      } else if (event["xaxis.range"]) {
        windowRange = event["xaxis.range"].slice();
      } else if (event["xaxis.autorange"]) {
        windowRange = [0, wall];
      } else {
        return;
      }
      drawTimeline();
    });
    agents.on("plotly_click", (event) => {
      const point = event.points[0];
      if (point && point.data.meta && point.data.meta.kind === "threads") select(point.customdata, true);
    });
    document.body.dataset.ready = "true";
  });
  window.tracegraphView = { data: DATA, chainOf, select, ready };
})();
