// The farm health charts (uPlot, vendored under static/vendor/uplot by `make static`): drawn
// from series.json, refreshed every 10 s (the sample step) or every minute for the day.
(function () {
  const root = document.getElementById("farm-health");
  if (!root) return;
  const status = document.getElementById("health-status");
  const notes = document.getElementById("health-notes");
  const showError = (text) => {
    status.textContent = text;
    status.className = "health-error";
  };
  if (typeof uPlot === "undefined") {
    showError("The chart library is missing: run `make static` (cms/static_vendor.py), then reload.");
    return;
  }
  const range = root.dataset.range;
  const url = root.dataset.seriesUrl + "?range=" + encodeURIComponent(range);
  const refreshMs = range === "day" ? 60000 : 10000;
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
  const plots = {}; // chart id -> {plot, signature, box}
  // The whole range on the x axis, however few points there are yet (set at each refresh).
  const bounds = { min: null, max: null };

  // "5.2 fps", "35 %", "120 ms": what the legend and axis show; "–" where there is no value.
  const number = (v) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(2).replace(/\.?0+$/, ""));
  const withUnit = (v, unit) => (v === null || v === undefined ? "–" : number(v) + " " + unit);

  const options = (chart, width) => ({
    width: width,
    height: 220,
    legend: { live: true },
    hooks: { ready: [showNewest], setCursor: [showNewest] },
    scales: {
      x: { time: true, range: (u, min, max) => (bounds.min === null ? [min, max] : [bounds.min, bounds.max]) },
      // From zero: a farm figure is read against none; percents up to 100 at least.
      y: { range: (u, min, max) => [0, Math.max(chart.unit === "%" ? 100 : 1, (max || 0) * 1.1)] },
    },
    axes: [
      { label: "time" },
      { label: chart.unit, size: 64, values: (u, splits) => splits.map((v) => number(v)) },
    ],
    series: [{ label: "time", value: (u, v) => (v === null ? "–" : when(v)) }].concat(
      chart.series.map((s) => ({
        label: s.label,
        stroke: palette[s.entity % palette.length],
        dash: s.line ? [6, 4] : undefined,
        width: 1.5,
        value: (u, v) => withUnit(v, chart.unit),
      }))
    ),
  });

  // The day's points name their date too.
  const when = (t) => (range === "day" ? new Date(t * 1000).toLocaleString() : new Date(t * 1000).toLocaleTimeString());

  const data = (chart) => [chart.x].concat(chart.series.map((s) => s.values));

  // Without a cursor over it the legend shows the newest values, not dashes: uPlot clears
  // the legend whenever it updates the cursor (after each redraw, and when the mouse leaves).
  const showNewest = (u) => {
    const last = u.data[0].length - 1;
    if (last >= 0 && u.cursor.idx == null) u.setLegend({ idx: last }, false);
  };

  const draw = (chart) => {
    const grid = root.querySelector('.health-grid[data-group="' + chart.group + '"]');
    let entry = plots[chart.id];
    if (!entry) {
      const box = document.createElement("div");
      box.className = "health-chart";
      box.dataset.chart = chart.id;
      const title = document.createElement("h3");
      title.textContent = chart.title + " (" + chart.unit + ")";
      box.appendChild(title);
      grid.appendChild(box);
      entry = plots[chart.id] = { plot: null, signature: null, box: box, empty: null };
    }
    if (!chart.series.length || !chart.x.length) {
      if (entry.plot) entry.plot.destroy();
      entry.plot = null;
      entry.signature = null;
      if (!entry.empty) {
        entry.empty = document.createElement("p");
        entry.empty.className = "health-empty";
        entry.box.appendChild(entry.empty);
      }
      entry.empty.textContent = chart.empty || "No samples yet.";
      return;
    }
    if (entry.empty) {
      entry.empty.remove();
      entry.empty = null;
    }
    const signature = chart.series.map((s) => s.label).join("\n");
    if (entry.plot && entry.signature === signature) {
      entry.plot.setData(data(chart));
    } else {
      if (entry.plot) entry.plot.destroy();
      const width = Math.max(300, entry.box.clientWidth - 12);
      entry.plot = new uPlot(options(chart, width), data(chart), entry.box);
      entry.signature = signature;
    }
  };

  const render = (payload) => {
    notes.replaceChildren(
      ...payload.notes.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      })
    );
    bounds.min = Math.floor(payload.now - payload.span_s);
    bounds.max = Math.ceil(payload.now);
    payload.charts.forEach(draw);
    status.className = "";
    const step = payload.step_s >= 60 ? payload.step_s / 60 + " min" : payload.step_s + " s";
    status.textContent = "a point every " + step + " · updated " + new Date().toLocaleTimeString();
  };

  const refresh = async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const payload = await response.json().catch(() => ({}));
      if (!response.ok) {
        showError(payload.error || "The series are not available (HTTP " + response.status + ").");
        return;
      }
      render(payload);
    } catch (error) {
      showError("The web server is not answering: " + error);
    }
  };

  window.addEventListener("resize", () => {
    Object.values(plots).forEach((entry) => {
      if (entry.plot) entry.plot.setSize({ width: Math.max(300, entry.box.clientWidth - 12), height: 220 });
    });
  });
  document.addEventListener("visibilitychange", refresh);
  refresh();
  setInterval(refresh, refreshMs);
})();
