// The farm dashboard: redraws its tables from the state endpoint every 2 s.
(function () {
  const root = document.getElementById("farm");
  if (!root) return;
  const cell = (text, cls) => {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : text;
    if (cls) td.className = cls;
    return td;
  };
  const badge = (state) => {
    const td = document.createElement("td");
    const span = document.createElement("span");
    span.className = "badge badge-" + state;
    span.textContent = state;
    td.appendChild(span);
    return td;
  };
  const pct = (v) => (v === null || v === undefined ? null : Math.round(v) + " %");
  const fill = (id, rows) => {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren(...rows);
  };
  const restartButton = (cameraId) => {
    const form = document.getElementById("farm-restart-form");
    const td = document.createElement("td");
    if (!form) return td;
    const button = document.createElement("button");
    button.textContent = "Restart";
    button.addEventListener("click", () => {
      form.action = root.dataset.restartUrl.replace("/0/", "/" + cameraId + "/");
      form.submit();
    });
    td.appendChild(button);
    return td;
  };
  async function refresh() {
    try {
      const response = await fetch(root.dataset.stateUrl, { credentials: "same-origin" });
      const state = await response.json();
      if (!response.ok) throw new Error(state.error || response.statusText);
      fill("farm-workers", state.workers.map((w) => {
        const tr = document.createElement("tr");
        tr.append(cell(w.name), cell(w.device), cell(w.running.length + " / " + w.capacity, "num"),
          cell(pct(w.cpu_percent), "num"), cell(pct(w.memory_percent), "num"),
          cell(pct(w.gpu_percent), "num"), cell(pct(w.gpu_memory_percent), "num"),
          cell((w.models || []).join(", ")), cell(w.last_heartbeat));
        return tr;
      }));
      fill("farm-streams", state.streams.map((s) => {
        const tr = document.createElement("tr");
        tr.append(cell(s.camera_name || s.camera), cell(s.worker),
          badge(s.state), cell(s.fps_in + " / " + s.fps_out, "num"),
          cell(s.frame_age === null ? null : s.frame_age.toFixed(2) + " s", "num"),
          cell(s.reconnects, "num"),
          cell(s.latency_ms === null ? null : s.latency_ms + " ms", "num"), cell(s.generation, "num"),
          restartButton(s.camera));
        if (s.reason) tr.children[2].title = s.reason;
        return tr;
      }));
      fill("farm-pending", state.pending.map((p) => {
        const tr = document.createElement("tr");
        tr.append(cell(p.camera_name || p.camera), cell(p.reason));
        return tr;
      }));
      const r = state.reconcile;
      document.getElementById("farm-reconcile").textContent =
        r ? r.finished_at + " (" + r.duration_ms + " ms)" : "never";
      document.getElementById("farm-dead-letters").textContent = state.dead_letters;
      document.getElementById("farm-updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (error) {
      document.getElementById("farm-updated").textContent = "cannot refresh: " + error.message;
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
