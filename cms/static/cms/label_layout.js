// Where each box's label goes on the live wall (live_wall.js), so that no two labels overlap
// into an unreadable strip: colliding labels are stacked above (or inside) their box instead.
// Pure: boxes and label sizes in, positions out (tests/browser/test_live_wall_in_a_browser.py
// calls it directly).
(function (root) {
  "use strict";
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), Math.max(lo, hi));
  const overlap = (a, b) =>
    Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) *
    Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

  // items: [{box: [x1, y1, x2, y2], w, h}] in drawing pixels, the most important first (it
  // gets the best place); bounds: {width, height}. Returns, in the same order,
  // [{x, y, w, h, moved}]: the first place that covers no earlier label, trying above the
  // box's top-left corner, inside it, then one label height further up or down each step;
  // when every one is taken, the least covered. `moved`: not on the box's corner (the caller
  // draws a leader line to it). Every label lies within the bounds.
  function placeLabels(items, bounds, steps) {
    const rows = steps === undefined ? 12 : steps;
    const placed = [];
    return items.map((item) => {
      const [x1, y1, x2] = item.box;
      const w = item.w, h = item.h;
      const xs = [clamp(x1, 0, bounds.width - w), clamp(x2 - w, 0, bounds.width - w)];
      const ys = [y1 - h, y1];
      for (let k = 1; k <= rows; k++) ys.push(y1 - h - k * h, y1 + k * h);
      let best = null;
      let bestCover = Infinity;
      search: for (const y of ys) {
        for (const x of xs) {
          const rect = { x: x, y: clamp(y, 0, bounds.height - h), w: w, h: h };
          let cover = 0;
          for (const other of placed) cover += overlap(rect, other);
          if (cover < bestCover) {
            best = rect;
            bestCover = cover;
          }
          if (cover === 0) break search;
        }
      }
      const corner = { x: xs[0], y: clamp(y1 - h, 0, bounds.height - h) };
      const first = { x: xs[0], y: clamp(y1, 0, bounds.height - h) };
      const moved = !(
        (best.x === corner.x && best.y === corner.y) ||
        (best.x === first.x && best.y === first.y)
      );
      placed.push(best);
      return { x: best.x, y: best.y, w: w, h: h, moved: moved };
    });
  }

  root.SightlineLabels = { placeLabels: placeLabels };
})(typeof window !== "undefined" ? window : globalThis);
