// The display page's drawing board: the camera's newest frame with the display's crop, zones
// and lines drawn over it, and drawn or edited there with the mouse. The form's fields stay the
// truth: drawing writes them (zones and lines as JSON, the crop as four numbers), typing in them
// redraws. Every coordinate is an integer in the frame's own (source) pixels: the overlay's
// viewBox is the image's natural size, whatever size the page shows it at.
// The admin loads form media in <head>, so wait for the page before looking for the board.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  // cms/display_geometry.py's NAME_PATTERN and limits, checked here to name things sensibly;
  // the server checks again.
  const NAME_RE = /^[A-Za-z0-9_.-]+( [A-Za-z0-9_.-]+)*$/;
  const MAX_POINTS = 64;
  const CLOSE_PX = 10; // a click this near the first point (on screen) closes the zone
  const SAME_PX = 3; // a second click this near the last point adds nothing (a double-click)
  const MIN_DRAG_PX = 4; // a shorter drag is a slip, not a line or a crop
  const DOUBLE_MS = 500; // a second press this soon on the same spot is a double-click
  const REFRESH_MS = 5000;
  const CROP_FIELDS = ["id_crop_x1", "id_crop_y1", "id_crop_x2", "id_crop_y2"];

  function svgEl(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function isPoint(p) {
    return Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && isFinite(v));
  }

  // One item per line, spaced like Python's json.dumps, so the field stays readable.
  function formatList(items) {
    if (!items.length) return "[]";
    const lines = items.map((item) => JSON.stringify(item).replace(/,/g, ", ").replace(/":/g, '": '));
    return "[\n  " + lines.join(",\n  ") + "\n]";
  }

  function Board(root) {
    const stage = root.querySelector("[data-geometry-stage]");
    const img = root.querySelector("[data-geometry-frame]");
    const svg = root.querySelector("[data-geometry-overlay]");
    const placeholder = root.querySelector("[data-geometry-placeholder]");
    const status = root.querySelector("[data-geometry-status]");
    const nameInput = root.querySelector("[data-geometry-name]");
    const finishButton = root.querySelector("[data-geometry-finish]");
    const deleteButton = root.querySelector("[data-geometry-delete]");
    const modeButtons = root.querySelectorAll("[data-mode]");
    const zonesField = document.getElementById("id_zones");
    const linesField = document.getElementById("id_lines");
    const cropFields = CROP_FIELDS.map((id) => document.getElementById(id));
    const cameraSelect = document.getElementById("id_camera");
    const editable = Boolean(zonesField && linesField && cropFields.every(Boolean));
    const howTo = status.textContent;

    const stored = JSON.parse(root.dataset.geometry || "{}");
    let zones = Array.isArray(stored.zones) ? stored.zones : [];
    let lines = Array.isArray(stored.lines) ? stored.lines : [];
    let crop = Array.isArray(stored.crop) ? stored.crop : null;
    let size = null; // the frame's natural size {w, h}, once an image has loaded
    let mode = "select";
    let pending = []; // the zone being clicked out
    let hover = null; // the pointer, for the zone's rubber band
    let drag = null; // {start, end} of a line or crop being dragged
    let selected = null; // {kind: "zone" | "line" | "crop", index}
    let problems = [];
    let lastDown = 0; // when the last zone corner was pressed

    // --- the form's fields ----------------------------------------------------------------

    function parseList(field, label) {
      const text = field.value.trim();
      if (!text) return [];
      let value;
      try {
        value = JSON.parse(text);
      } catch (e) {
        problems.push(label + " is not valid JSON yet: the drawing shows the last valid " + label + ".");
        return null;
      }
      if (!Array.isArray(value)) {
        problems.push(label + " must be a list: the drawing shows the last valid " + label + ".");
        return null;
      }
      return value;
    }

    function readFields() {
      if (!editable) return;
      problems = [];
      const z = parseList(zonesField, "zones");
      if (z) zones = z;
      const l = parseList(linesField, "lines");
      if (l) lines = l;
      const values = cropFields.map((f) => f.value.trim());
      if (values.every((v) => v === "")) crop = null;
      else if (values.every((v) => /^\d+$/.test(v))) crop = values.map(Number);
      else problems.push("Give all four crop numbers to see the crop.");
      if (selected && !itemOf(selected)) selected = null;
      redraw();
      say("");
    }

    function writeZones() {
      zonesField.value = formatList(zones);
    }

    function writeLines() {
      linesField.value = formatList(lines);
    }

    function writeCrop() {
      cropFields.forEach((field, i) => (field.value = crop ? String(crop[i]) : ""));
    }

    // --- names ----------------------------------------------------------------------------

    function nameFor(kind, items) {
      const taken = new Set(items.map((item) => item && item.name));
      let wanted = nameInput.value.trim().replace(/\s+/g, " ");
      if (wanted && (!NAME_RE.test(wanted) || (kind === "zone" && wanted === "view"))) {
        say("'" + wanted + "' cannot be a name (letters, digits, '_', '-', '.' and single spaces; not 'view').");
        wanted = "";
      }
      const base = wanted || kind;
      if (wanted && !taken.has(base)) return base;
      for (let n = wanted ? 2 : 1; ; n++) {
        if (!taken.has(base + " " + n)) return base + " " + n;
      }
    }

    function rename() {
      if (!selected || selected.kind === "crop") return;
      const items = selected.kind === "zone" ? zones : lines;
      const item = items[selected.index];
      const wanted = nameInput.value.trim().replace(/\s+/g, " ");
      if (!item || !wanted || wanted === item.name) return;
      if (!NAME_RE.test(wanted) || (selected.kind === "zone" && wanted === "view")) {
        say("'" + wanted + "' cannot be a name (letters, digits, '_', '-', '.' and single spaces; not 'view').");
        return;
      }
      if (items.some((other) => other && other.name === wanted)) {
        say("There is already a " + selected.kind + " named '" + wanted + "'.");
        return;
      }
      item.name = wanted;
      selected.kind === "zone" ? writeZones() : writeLines();
      redraw();
    }

    // --- pointer --------------------------------------------------------------------------

    function toSource(event) {
      const rect = svg.getBoundingClientRect();
      const x = Math.round(((event.clientX - rect.left) * size.w) / rect.width);
      const y = Math.round(((event.clientY - rect.top) * size.h) / rect.height);
      return [Math.min(Math.max(x, 0), size.w), Math.min(Math.max(y, 0), size.h)];
    }

    function screenPerSource() {
      return svg.getBoundingClientRect().width / size.w;
    }

    function screenDistance(a, b) {
      return Math.hypot(a[0] - b[0], a[1] - b[1]) * screenPerSource();
    }

    svg.addEventListener("pointerdown", (event) => {
      if (!size || !editable || event.button !== 0) return;
      event.preventDefault();
      const point = toSource(event);
      if (mode !== "select" && selected && !pending.length) {
        // A new shape: the name box no longer names the selected one.
        if (selected.kind !== "crop" && nameInput.value === itemOf(selected).name) nameInput.value = "";
        select(null);
      }
      if (mode === "zone") {
        addZonePoint(point);
      } else if (mode === "line" || mode === "crop") {
        drag = { start: point, end: point };
        svg.setPointerCapture(event.pointerId);
      } else {
        const target = event.target.closest("[data-kind]");
        select(target ? { kind: target.dataset.kind, index: Number(target.dataset.index) } : null);
      }
      redraw();
    });

    svg.addEventListener("pointermove", (event) => {
      if (!size) return;
      const point = toSource(event);
      if (drag) {
        drag.end = point;
        redraw();
      } else if (mode === "zone" && pending.length) {
        hover = point;
        redraw();
      }
    });

    svg.addEventListener("pointerup", (event) => {
      if (!drag) return;
      const { start, end } = drag;
      drag = null;
      if (svg.hasPointerCapture(event.pointerId)) svg.releasePointerCapture(event.pointerId);
      if (screenDistance(start, end) < MIN_DRAG_PX) {
        redraw();
        return;
      }
      if (mode === "line") {
        lines.push({ name: nameFor("line", lines), points: [start, end] });
        writeLines();
        nameInput.value = "";
        select({ kind: "line", index: lines.length - 1 });
      } else if (mode === "crop") {
        const [x1, x2] = [Math.min(start[0], end[0]), Math.max(start[0], end[0])];
        const [y1, y2] = [Math.min(start[1], end[1]), Math.max(start[1], end[1])];
        if (x2 > x1 && y2 > y1) {
          crop = [x1, y1, x2, y2];
          writeCrop();
          select({ kind: "crop", index: 0 });
        }
      }
      redraw();
    });

    svg.addEventListener("dblclick", (event) => {
      event.preventDefault();
      if (mode === "zone") finishZone();
    });

    function addZonePoint(point) {
      if (pending.length >= 3 && screenDistance(point, pending[0]) <= CLOSE_PX) {
        finishZone();
        return;
      }
      const now = Date.now();
      const again = pending.length && screenDistance(point, pending[pending.length - 1]) <= SAME_PX;
      const quick = now - lastDown < DOUBLE_MS;
      lastDown = now;
      if (again) {
        // A double-click on the last corner closes the zone (its second press adds nothing).
        if (quick) finishZone();
        return;
      }
      pending.push(point);
      if (pending.length >= MAX_POINTS) finishZone();
      else say(pending.length < 3 ? "Click the next corner." : "Click the first point, double-click or press Finish zone to close it.");
    }

    function finishZone() {
      if (pending.length < 3) {
        if (pending.length) say("A zone needs at least 3 points.");
        return;
      }
      zones.push({ name: nameFor("zone", zones), polygon: pending });
      pending = [];
      hover = null;
      writeZones();
      nameInput.value = "";
      select({ kind: "zone", index: zones.length - 1 });
      redraw();
    }

    function itemOf(choice) {
      if (choice.kind === "crop") return crop;
      return (choice.kind === "zone" ? zones : lines)[choice.index] || null;
    }

    function select(choice) {
      selected = choice && itemOf(choice) ? choice : null;
      if (selected && selected.kind !== "crop") nameInput.value = itemOf(selected).name || "";
      deleteButton.disabled = !selected;
      say(selected ? "Selected " + describe(selected) + "." : "");
    }

    function describe(choice) {
      return choice.kind === "crop" ? "the crop" : choice.kind + " '" + itemOf(choice).name + "'";
    }

    function deleteSelected() {
      if (!selected || !editable) return;
      const what = describe(selected);
      if (selected.kind === "crop") {
        crop = null;
        writeCrop();
      } else if (selected.kind === "zone") {
        zones.splice(selected.index, 1);
        writeZones();
      } else {
        lines.splice(selected.index, 1);
        writeLines();
      }
      select(null);
      nameInput.value = "";
      say("Deleted " + what + ".");
      redraw();
    }

    function setMode(next) {
      mode = next;
      pending = [];
      hover = null;
      drag = null;
      modeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
      root.dataset.mode = mode;
      finishButton.hidden = mode !== "zone";
      redraw();
    }

    function say(text) {
      status.textContent = [text, ...problems].filter(Boolean).join(" ") || howTo;
    }

    // --- drawing --------------------------------------------------------------------------

    function redraw() {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      if (!size) return;
      svg.setAttribute("viewBox", "0 0 " + size.w + " " + size.h);
      const unit = 1 / screenPerSource(); // source pixels per screen pixel
      const font = 13 * unit;
      const isSelected = (kind, index) => selected && selected.kind === kind && selected.index === index;

      if (crop && crop.every((v) => typeof v === "number")) {
        const [x1, y1, x2, y2] = crop;
        svgEl("rect", {
          x: x1, y: y1, width: Math.max(x2 - x1, 0), height: Math.max(y2 - y1, 0),
          class: "geometry-crop" + (isSelected("crop", 0) ? " selected" : ""),
          "data-kind": "crop", "data-index": 0,
        }, svg);
        label("crop (view)", x1 + 4 * unit, y1 + font * 1.2, font);
      }
      zones.forEach((zone, index) => {
        if (!zone || !Array.isArray(zone.polygon) || !zone.polygon.every(isPoint)) return;
        svgEl("polygon", {
          points: zone.polygon.map((p) => p.join(",")).join(" "),
          class: "geometry-zone" + (isSelected("zone", index) ? " selected" : ""),
          "data-kind": "zone", "data-index": index,
        }, svg);
        if (zone.polygon.length) label(String(zone.name), zone.polygon[0][0], zone.polygon[0][1] - 4 * unit, font);
      });
      lines.forEach((line, index) => {
        if (!line || !Array.isArray(line.points) || line.points.length !== 2 || !line.points.every(isPoint)) return;
        drawLine(line.points[0], line.points[1], unit, "geometry-line" + (isSelected("line", index) ? " selected" : ""), index);
        const mid = [(line.points[0][0] + line.points[1][0]) / 2, (line.points[0][1] + line.points[1][1]) / 2];
        label(String(line.name), mid[0] + 6 * unit, mid[1] - 6 * unit, font);
      });
      if (pending.length) {
        const points = hover ? [...pending, hover] : pending;
        svgEl("polyline", { points: points.map((p) => p.join(",")).join(" "), class: "geometry-pending" }, svg);
        pending.forEach((p, i) => svgEl("circle", {
          cx: p[0], cy: p[1], r: (i === 0 ? CLOSE_PX : 3) * unit,
          class: i === 0 ? "geometry-handle geometry-first" : "geometry-handle",
        }, svg));
      }
      if (drag && mode === "line") drawLine(drag.start, drag.end, unit, "geometry-line geometry-pending", null);
      if (drag && mode === "crop") {
        const [a, b] = [drag.start, drag.end];
        svgEl("rect", {
          x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]),
          width: Math.abs(a[0] - b[0]), height: Math.abs(a[1] - b[1]),
          class: "geometry-crop geometry-pending",
        }, svg);
      }
    }

    // A line with an arrowhead at its end: "in" is crossing from its left to its right.
    function drawLine(a, b, unit, cls, index) {
      const group = svgEl("g", { class: cls }, svg);
      if (index !== null) {
        group.setAttribute("data-kind", "line");
        group.setAttribute("data-index", index);
        const hit = svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "geometry-hit" }, group);
        hit.style.strokeWidth = 12 * unit + "px"; // a wide, invisible target for Select
      }
      svgEl("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, group);
      const length = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
      const [ux, uy] = [(b[0] - a[0]) / length, (b[1] - a[1]) / length];
      const head = 10 * unit;
      const tip = b;
      const left = [b[0] - ux * head - uy * head * 0.5, b[1] - uy * head + ux * head * 0.5];
      const right = [b[0] - ux * head + uy * head * 0.5, b[1] - uy * head - ux * head * 0.5];
      svgEl("polygon", { points: [tip, left, right].map((p) => p.join(",")).join(" "), class: "geometry-arrow" }, group);
    }

    function label(text, x, y, font) {
      const node = svgEl("text", { x: x, y: y, "font-size": font, class: "geometry-label" }, svg);
      node.textContent = text;
    }

    // --- the frame --------------------------------------------------------------------------

    function snapshotUrl() {
      const camera = cameraSelect ? cameraSelect.value : root.dataset.camera;
      return camera ? root.dataset.snapshotUrl.replace("{camera}", encodeURIComponent(camera)) : "";
    }

    function noFrame(text) {
      stage.hidden = true;
      placeholder.hidden = false;
      placeholder.textContent = text;
    }

    function refresh() {
      const url = snapshotUrl();
      if (!url) {
        noFrame("Choose a camera to see its newest frame.");
        return;
      }
      img.src = url + "?t=" + Date.now();
    }

    img.addEventListener("load", () => {
      const next = { w: img.naturalWidth, h: img.naturalHeight };
      stage.hidden = false;
      placeholder.hidden = true;
      if (!size || size.w !== next.w || size.h !== next.h) {
        size = next;
        root.dataset.frameSize = size.w + "x" + size.h;
      }
      redraw();
    });

    img.addEventListener("error", async () => {
      let why = "No frame yet: the camera is not streaming.";
      try {
        const response = await fetch(snapshotUrl(), { credentials: "same-origin" });
        const body = await response.json();
        if (body.detail) why = body.detail;
      } catch (e) {
        // keep the general reason
      }
      noFrame(why + " The fields below still work.");
    });

    // --- wiring -----------------------------------------------------------------------------

    modeButtons.forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));
    finishButton.addEventListener("click", finishZone);
    deleteButton.addEventListener("click", deleteSelected);
    nameInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter here must not submit the form
      if (mode === "zone" && pending.length) finishZone();
      else rename();
    });
    nameInput.addEventListener("change", rename);
    document.addEventListener("keydown", (event) => {
      if (event.target.closest("input, textarea, select")) return;
      if (event.key === "Escape" && pending.length) {
        pending = [];
        hover = null;
        say("Zone cancelled.");
        redraw();
      } else if ((event.key === "Delete" || event.key === "Backspace") && selected) {
        event.preventDefault();
        deleteSelected();
      }
    });
    if (editable) {
      [zonesField, linesField, ...cropFields].forEach((f) => f.addEventListener("input", readFields));
    } else {
      root.querySelector(".geometry-toolbar").hidden = true;
    }
    if (cameraSelect) cameraSelect.addEventListener("change", refresh);
    window.addEventListener("resize", redraw);
    deleteButton.disabled = true;
    setMode("select");
    readFields();
    refresh();
    // A new frame every few seconds; the drawing stays, only the picture under it changes.
    setInterval(() => {
      if (snapshotUrl()) refresh();
    }, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-geometry-editor]").forEach((root) => Board(root));
  });
})();
