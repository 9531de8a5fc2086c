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
  const badge = (state, why) => {
    const td = document.createElement("td");
    const span = document.createElement("span");
    span.className = "badge badge-" + state;
    span.textContent = state;
    td.appendChild(span);
    if (why) {
      const reason = document.createElement("span");
      reason.className = "farm-reason";
      reason.textContent = " " + why;
      td.appendChild(reason);
    }
    return td;
  };
  const pct = (v) => (v === null || v === undefined ? null : Math.round(v) + " %");
  const rate = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(1));
  // "12 s ago" (or minutes, hours), never negative when the browser's clock is behind.
  const ago = (iso) => {
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 90) return Math.round(seconds) + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    return Math.round(seconds / 3600) + " h ago";
  };
  const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() + ", " + ago(iso) : null);
  const timeCell = (iso) => {
    const td = cell(iso ? ago(iso) : null);
    if (iso) td.title = new Date(iso).toLocaleString();
    return td;
  };
  // A name that links to its admin page (plain text when there is no page, e.g. deleted).
  const link = (text, href) => {
    if (!href) return document.createTextNode(text);
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  };
  const linkCell = (text, href) => {
    const td = document.createElement("td");
    td.appendChild(link(text, href));
    return td;
  };
  const small = (text, cls) => {
    const span = document.createElement("span");
    span.className = cls || "farm-reason";
    span.textContent = text;
    return span;
  };
  // One line per display watching a stream: "Lobby: yolo v8", then its model's errors.
  const displaysCell = (displays) => {
    const td = document.createElement("td");
    td.className = "farm-lines";
    if (!displays || displays.length === 0) td.textContent = "–";
    for (const d of displays || []) {
      const line = document.createElement("div");
      line.appendChild(link(d.name, d.url));
      if (d.model_name) line.append(": " + d.model_name);
      if (d.error) line.append(" ", small("model failed to load: " + d.error, "farm-error"));
      for (const e of d.secondary_errors) line.append(" ", small(e, "farm-error"));
      td.appendChild(line);
    }
    return td;
  };
  // "ok" only for a display that gets its results; a pending one says why under "results".
  const staleCell = (d) => {
    const td = document.createElement("td");
    td.className = "farm-lines";
    if (d.stale.length === 0) {
      if (d.pending_reason || d.camera_state !== "running") td.textContent = "–";
      else td.appendChild(small("ok", "badge badge-ok"));
      return td;
    }
    for (const s of d.stale) {
      const line = document.createElement("div");
      let text = "stale: " + s.text;
      if (s.kind === "client" && s.since) text += " since " + when(s.since);
      else if (s.kind === "results" && s.since) text += " for " + ago(s.since).replace(" ago", "");
      const span = small(text, "badge badge-stale");
      if (s.since) span.title = new Date(s.since).toLocaleString();
      line.appendChild(span);
      td.appendChild(line);
    }
    return td;
  };
  const resultsCell = (d) => {
    if (d.pending_reason) return cell("pending: " + d.pending_reason);
    if (d.camera_state !== "running") return cell("camera " + d.camera_state);
    const td = cell(d.newest_result ? "newest " + ago(d.newest_result) : "none yet");
    for (const e of d.secondary_errors) td.append(" ", small(e, "farm-error"));
    return td;
  };
  const fill = (id, rows) => {
    const table = document.getElementById(id);
    const body = table.querySelector("tbody");
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell("none", "farm-none");
      td.colSpan = table.querySelectorAll("thead th").length;
      tr.appendChild(td);
      rows = [tr];
    }
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
          cell((w.model_labels || w.models || []).join(", ") || "none"),
          cell((w.backend_labels || []).join("\n") || "torch", "backends"),
          timeCell(w.last_heartbeat));
        return tr;
      }));
      fill("farm-streams", state.streams.map((s) => {
        const tr = document.createElement("tr");
        const why = [s.reason, s.last_error].filter(Boolean).join(": ");
        const state = badge(s.state, why);
        if (s.last_error && s.last_error_at) state.append(small(" (since " + when(s.last_error_at) + ")"));
        tr.append(linkCell(s.camera_name, s.camera_url), cell(s.worker),
          state, cell(rate(s.fps_in) + " / " + rate(s.fps), "num"),
          cell(s.frame_age === null ? null : s.frame_age.toFixed(2) + " s", "num"),
          cell(s.reconnects, "num"),
          cell(s.latency_ms === null ? null : Math.round(s.latency_ms) + " ms", "num"),
          cell(s.generation, "num"), displaysCell(s.displays), restartButton(s.camera));
        return tr;
      }));
      fill("farm-pending", state.pending.map((p) => {
        const tr = document.createElement("tr");
        // A display of its own when only that display cannot run; "all" for the camera.
        tr.append(linkCell(p.camera_name, p.camera_url),
          p.display_name ? linkCell(p.display_name, p.display_url) : cell("all displays"),
          cell((p.model_names || []).join(", ") || null), cell(p.reason));
        return tr;
      }));
      fill("farm-displays", state.displays.map((d) => {
        const tr = document.createElement("tr");
        const seen = d.client_last_seen ? timeCell(d.client_last_seen) : cell("never");
        tr.append(linkCell(d.name, d.url), linkCell(d.camera_name, d.camera_url),
          cell(d.model_name), seen, cell(d.showing || null), resultsCell(d),
          staleCell(d));
        return tr;
      }));
      const r = state.reconcile;
      const finished = r && r.finished_at ? when(r.finished_at) : null;
      document.getElementById("farm-reconcile").textContent =
        finished ? finished + " (" + Math.round(r.duration_ms) + " ms)" : "never";
      document.getElementById("farm-dead-letters").textContent = state.dead_letters;
      document.getElementById("farm-updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (error) {
      document.getElementById("farm-updated").textContent = "cannot refresh: " + error.message;
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
