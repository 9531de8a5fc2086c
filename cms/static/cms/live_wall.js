// The live wall: polls the tiles' metadata every second and each running camera's newest
// frame (a conditional request: an unchanged frame is a 304), and draws the chosen display's
// crop, zones, lines and boxes on a canvas over the frame. A camera that is not online shows
// a placeholder with its state and reason instead of an image.
(function () {
  "use strict";
  const wall = document.getElementById("wall");
  if (!wall) return;
  const refreshMs = Number(wall.dataset.refreshMs) || 1000;
  const updated = document.getElementById("wall-updated");
  const empty = document.getElementById("wall-empty");
  const tiles = new Map(); // camera id -> tile
  // The palette of cms/api/drawing.py (there BGR), so a class has the same colour everywhere.
  const PALETTE = [
    "#ff3838", "#ff9d97", "#ff701f", "#ffb21d", "#cfd231", "#48f90a", "#92cc17", "#3ddb86",
    "#00bcd3", "#6473ff", "#0018ec", "#8438ff", "#520085", "#cb38ff", "#ff95c8", "#ff37c7",
  ];
  const FONT = "12px sans-serif";

  // The filters are a GET form: changing one loads the filtered wall, a link to share.
  const filters = document.getElementById("wall-filters");
  for (const select of filters.querySelectorAll("select")) {
    select.addEventListener("change", () => {
      for (const other of filters.querySelectorAll("select")) other.disabled = !other.value;
      filters.submit();
    });
  }

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function makeTile(data) {
    const href = wall.dataset.cameraUrl.replace("/0/", "/" + data.id + "/");
    const node = el("div", "wall-tile");
    node.dataset.camera = data.id;
    const head = el("div", "wall-head");
    const title = el("a", "wall-name", data.name);
    title.href = href;
    const badge = el("span", "badge");
    const select = el("select", "wall-display");
    select.title = "whose zones, lines and boxes are drawn";
    head.append(title, badge, select);
    const view = el("a", "wall-view");
    view.href = href;
    view.title = "open " + data.name;
    const img = el("img", "wall-frame");
    img.alt = "newest frame of " + data.name;
    img.hidden = true;
    const canvas = el("canvas", "wall-overlay");
    const placeholder = el("div", "wall-placeholder");
    view.append(img, canvas, placeholder);
    const counts = el("div", "wall-counts");
    const meta = el("div", "wall-meta");
    node.append(head, view, counts, meta);
    const tile = {
      node, badge, select, img, canvas, placeholder, counts, meta,
      data: null, chosen: data.display, etag: null, url: null, loading: false,
    };
    select.addEventListener("change", () => {
      tile.chosen = Number(select.value);
      render(tile);
    });
    img.addEventListener("load", () => {
      tile.node.dataset.frame = "loaded";
      showPlaceholder(tile);
      draw(tile);
    });
    return tile;
  }

  function update(tile, data) {
    tile.data = data;
    tile.node.dataset.state = data.state;
    tile.badge.className = "badge badge-" + data.state;
    tile.badge.textContent = data.state;
    const ids = data.displays.map((d) => d.id);
    if (!ids.includes(tile.chosen)) tile.chosen = data.display;
    const options = data.displays.map((d) => {
      const option = el("option", "", d.name);
      option.value = d.id;
      return option;
    });
    if (tile.select.options.length !== options.length ||
        options.some((o, i) => tile.select.options[i].value !== o.value ||
                               tile.select.options[i].text !== o.text)) {
      tile.select.replaceChildren(...options);
    }
    tile.select.value = String(tile.chosen);
    tile.select.hidden = data.displays.length < 2;
    render(tile);
    if (data.frame) fetchFrame(tile);
  }

  function chosenDisplay(tile) {
    return tile.data.displays.find((d) => d.id === tile.chosen) || tile.data.displays[0];
  }

  function render(tile) {
    const data = tile.data;
    const display = chosenDisplay(tile);
    const counts = Object.entries(display.counts).map(([name, n]) => name + " " + n);
    tile.counts.textContent = data.state !== "running" ? "" :
      counts.length ? counts.join(" · ") : "nothing detected";
    const parts = [];
    if (data.worker) parts.push(data.worker);
    if (data.fps !== null && data.fps !== undefined) parts.push(Number(data.fps).toFixed(1) + " fps");
    if (data.frame_age !== null && data.frame_age !== undefined) {
      parts.push("frame age " + Number(data.frame_age).toFixed(1) + " s");
    }
    if (data.error) parts.push("error: " + data.error);
    tile.meta.textContent = parts.join(" · ");
    showPlaceholder(tile);
    draw(tile);
  }

  function showPlaceholder(tile) {
    const data = tile.data;
    const live = data.frame && tile.url !== null;
    tile.img.hidden = !live;
    if (!data.frame) tile.node.dataset.frame = "none";
    tile.placeholder.hidden = live;
    tile.canvas.hidden = !live;
    tile.placeholder.textContent = data.reason || (data.frame ? "loading the frame…" : data.state);
  }

  async function fetchFrame(tile) {
    if (tile.loading) return;
    tile.loading = true;
    try {
      const url = wall.dataset.frameUrl.replace("/0/", "/" + tile.data.id + "/");
      // no-cache: the browser revalidates with If-None-Match; a 304 hands back its cached
      // frame with the same ETag, which is not decoded again.
      const response = await fetch(url, { cache: "no-cache", credentials: "same-origin" });
      if (!response.ok) {
        tile.data = { ...tile.data, frame: false, reason: "running: no frame yet" };
        showPlaceholder(tile);
        return;
      }
      const etag = response.headers.get("ETag");
      if (etag && etag === tile.etag) return;
      const blob = await response.blob();
      const previous = tile.url;
      tile.etag = etag;
      tile.url = URL.createObjectURL(blob);
      tile.img.src = tile.url;
      if (previous) URL.revokeObjectURL(previous);
    } catch (error) {
      // The next poll tries again; the tile keeps its last frame meanwhile.
    } finally {
      tile.loading = false;
    }
  }

  function draw(tile) {
    const { img, canvas } = tile;
    if (img.hidden || !img.naturalWidth) return;
    const ratio = window.devicePixelRatio || 1;
    const width = img.clientWidth, height = img.clientHeight;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const scale = width / img.naturalWidth;
    const at = (x, y) => [x * scale, y * scale];
    const display = chosenDisplay(tile);
    ctx.font = FONT;
    ctx.lineWidth = 2;
    if (display.crop) {
      const [x1, y1] = at(display.crop[0], display.crop[1]);
      const [x2, y2] = at(display.crop[2], display.crop[3]);
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = "#fff";
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.setLineDash([]);
    }
    for (const zone of display.zones) {
      ctx.beginPath();
      zone.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(...at(x, y)) : ctx.moveTo(...at(x, y))));
      ctx.closePath();
      ctx.fillStyle = "rgba(0, 200, 255, 0.15)";
      ctx.strokeStyle = "#00c8ff";
      ctx.fill();
      ctx.stroke();
      outlined(ctx, zone.name, ...at(zone.polygon[0][0], zone.polygon[0][1] + 14 / scale), "#00c8ff");
    }
    for (const line of display.lines) {
      const [a, b] = [at(...line.points[0]), at(...line.points[1])];
      ctx.beginPath();
      ctx.moveTo(...a);
      ctx.lineTo(...b);
      ctx.strokeStyle = "#ffb300";
      ctx.lineWidth = 3;
      ctx.stroke();
      ctx.lineWidth = 2;
      outlined(ctx, line.name, b[0] + 4, b[1] - 4, "#ffb300");
    }
    const objects = [...display.objects].sort((p, q) => (q.confidence || 0) - (p.confidence || 0));
    const texts = objects.map(label);
    const items = objects.map((o, i) => ({
      box: o.box.map((v) => v * scale),
      w: Math.ceil(ctx.measureText(texts[i]).width) + 8,
      h: 16,
    }));
    const places = window.SightlineLabels.placeLabels(items, { width, height });
    objects.forEach((o, i) => {
      const [x1, y1, x2, y2] = items[i].box;
      const colour = PALETTE[(Number.isInteger(o.class_id) && o.class_id >= 0 ? o.class_id : 0) % PALETTE.length];
      ctx.strokeStyle = colour;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const p = places[i];
      if (p.moved) {
        ctx.beginPath();
        ctx.moveTo(p.x, p.y + p.h / 2);
        ctx.lineTo(x1, y1);
        ctx.lineWidth = 1;
        ctx.stroke();
        ctx.lineWidth = 2;
      }
      ctx.fillStyle = colour;
      ctx.fillRect(p.x, p.y, p.w, p.h);
      ctx.fillStyle = "#000";
      ctx.fillText(texts[i], p.x + 4, p.y + 12);
    });
    tile.node.dataset.boxes = objects.length;
    tile.node.dataset.labels = JSON.stringify(places.map((p, i) => ({ ...p, text: texts[i] })));
  }

  function label(obj) {
    const name = obj.class_name === undefined || obj.class_name === null ? "?" : obj.class_name;
    if (typeof obj.confidence !== "number") return name;
    const percent = obj.confidence * 100;
    const confidence = percent >= 1 ? " " + Math.round(percent) + "%" : " <1%";
    return name + confidence;
  }

  // A zone's or line's name, outlined so it reads on any frame, kept inside the canvas.
  function outlined(ctx, text, x, y, colour) {
    const width = ctx.canvas.width / (window.devicePixelRatio || 1);
    const height = ctx.canvas.height / (window.devicePixelRatio || 1);
    x = Math.min(Math.max(x, 2), width - ctx.measureText(text).width - 2);
    y = Math.min(Math.max(y, 12), height - 3);
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#000";
    ctx.strokeText(text, x, y);
    ctx.fillStyle = colour;
    ctx.fillText(text, x, y);
    ctx.lineWidth = 2;
  }

  async function poll() {
    try {
      if (!document.hidden) {
        const response = await fetch(wall.dataset.stateUrl, { credentials: "same-origin" });
        if (response.ok) {
          show((await response.json()).cameras);
          updated.textContent = "updated " + new Date().toLocaleTimeString();
        } else {
          updated.textContent = "could not update (" + response.status + ")";
        }
      }
    } catch (error) {
      updated.textContent = "could not update (" + error.message + ")";
    } finally {
      setTimeout(poll, refreshMs);
    }
  }

  function show(cameras) {
    const seen = new Set();
    const order = [];
    for (const data of cameras) {
      let tile = tiles.get(data.id);
      if (!tile) {
        tile = makeTile(data);
        tiles.set(data.id, tile);
      }
      seen.add(data.id);
      order.push(tile.node);
      update(tile, data);
    }
    for (const [id, tile] of tiles) {
      if (!seen.has(id)) {
        if (tile.url) URL.revokeObjectURL(tile.url);
        tiles.delete(id);
      }
    }
    if (order.length !== wall.children.length || order.some((n, i) => wall.children[i] !== n)) {
      wall.replaceChildren(...order);
    }
    empty.hidden = cameras.length > 0;
  }

  window.addEventListener("resize", () => tiles.forEach(draw));
  poll();
})();
