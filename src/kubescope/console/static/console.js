// kubescope console: draws each <figure class="chart" data-src="..."> with uPlot, one request per chart.
// No build step, no framework. Units follow console/units.py: CPU in millicores ("250m", "1.5"),
// memory in binary units ("512Mi", "1.5Gi"). Charts drawn are kept in window.kubescopeCharts (by the
// figure's id) with the data they drew, so a test reads back what the page shows.
"use strict";
(function () {
  const BINARY = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
  function trim(v, digits) { const s = v.toFixed(digits); return s.indexOf(".") >= 0 ? s.replace(/0+$/, "").replace(/\.$/, "") : s; }
  function cpu(m) {
    if (m == null || !isFinite(m)) return "-";
    if (Math.abs(m) < 1000) { const r = Math.round(m); return r === 0 ? "0" : r + "m"; }
    return trim(m / 1000, 2);
  }
  function memory(b) {
    if (b == null || !isFinite(b)) return "-";
    let v = b, unit = "";
    if (Math.abs(v) < 1024) return String(Math.round(v));
    for (const u of BINARY) { if (Math.abs(v) < 1024) break; v /= 1024; unit = u; }
    return trim(v, Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2) + unit;
  }
  function fmt(unit, v) { return unit === "cpu" ? cpu(v) : unit === "memory" ? memory(v) : v == null ? "-" : trim(v, 2); }
  const COLORS = { usage: "#326ce5", request: "#2e7d32", limit: "#c62828", allocatable: "#8a8f99", replicas: "#6a4fb3", min: "#9aa0aa", max: "#9aa0aa" };

  // null inside one of a series' intervals = another series has a point there: drawn through
  // (undefined); outside them it is a gap (null breaks the line).
  function column(x, s) {
    return s.values.map((v, i) => {
      if (v !== null) return v;
      const t = x[i];
      return s.intervals.some(([a, b]) => t >= a && t <= b) ? undefined : null;
    });
  }

  function draw(fig, data) {
    const plot = fig.querySelector(".plot");
    const note = fig.querySelector(".chart-note");
    note.textContent = data.notes.join(" ");
    plot.textContent = "";
    if (!data.x.length) { note.textContent = (note.textContent + " No data in this range.").trim(); fig.dataset.state = "empty"; return; }
    const stepped = data.unit === "count" ? uPlot.paths.stepped({ align: 1 }) : undefined;
    const series = [{ value: (u, t) => t == null ? "-" : new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z" }];
    for (const s of data.series) {
      series.push({
        label: s.label, stroke: COLORS[s.label] || "#555", width: s.label === "usage" || s.label === "replicas" ? 2 : 1.25,
        dash: s.label === "usage" || s.label === "replicas" ? undefined : [6, 4],
        paths: s.label === "replicas" ? stepped : undefined,
        value: (u, v) => fmt(data.unit, v), points: { show: false },
      });
    }
    const width = Math.max(260, plot.clientWidth || fig.clientWidth - 16);
    const opts = {
      width, height: 200, series,
      scales: { x: { time: true, range: [data.start, data.end] }, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
      axes: [{}, { size: 60, values: (u, ticks) => ticks.map(t => fmt(data.unit, t)) }],
      legend: { live: true },
    };
    const cols = [data.x, ...data.series.map(s => column(data.x, s))];
    const u = new uPlot(opts, cols, plot);
    fig.dataset.state = "drawn";
    window.kubescopeCharts[fig.id] = { uplot: u, data: data };
    new ResizeObserver(() => { const w = Math.max(260, plot.clientWidth); if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: 200 }); }).observe(plot);
  }

  async function load(fig) {
    fig.dataset.state = "loading";
    try {
      const r = await fetch(fig.dataset.src, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || r.status + " " + r.statusText);
      draw(fig, body);
    } catch (e) {
      fig.dataset.state = "error";
      fig.querySelector(".chart-note").textContent = "This chart could not be loaded: " + e.message;
    }
  }

  window.kubescopeCharts = {};
  window.kubescopeUnits = { cpu, memory };
  for (const fig of document.querySelectorAll("figure.chart[data-src]")) load(fig);
})();
