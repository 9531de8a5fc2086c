// "Try on a camera" on a detection model's admin page (cms.admin DetectionModelAdmin.try_view):
// posts the chosen camera, then shows the frame with the boxes and the raw detections.
"use strict";
(function () {
  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function percent(confidence) {
    const p = confidence * 100;
    return p < 1 ? "<1%" : `${Math.round(p)}%`;
  }

  function show(result, data) {
    result.replaceChildren();
    const img = document.createElement("img");
    img.src = data.image;
    img.alt = `boxes found on ${data.camera}`;
    img.setAttribute("data-tryout-image", "");
    result.appendChild(img);
    const table = document.createElement("table");
    table.setAttribute("data-tryout-objects", "");
    const head = table.createTHead().insertRow();
    for (const name of ["class", "confidence", "box (x1, y1, x2, y2)"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const obj of data.objects) {
      const row = body.insertRow();
      row.setAttribute("data-class-name", obj.class_name);
      cell(row, `${obj.class_name} (${obj.class_id})`);
      cell(row, percent(obj.confidence));
      cell(row, obj.box.map((v) => Math.round(v)).join(", "));
    }
    result.appendChild(table);
    const raw = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "raw detections (JSON)";
    const pre = document.createElement("pre");
    pre.textContent = JSON.stringify(data.objects, null, 2);
    raw.append(summary, pre);
    result.appendChild(raw);
  }

  async function run(panel) {
    const status = panel.querySelector("[data-tryout-status]");
    const result = panel.querySelector("[data-tryout-result]");
    const button = panel.querySelector("[data-tryout-run]");
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    const body = new URLSearchParams({
      camera: panel.querySelector("[data-tryout-camera]").value,
    });
    button.disabled = true;
    status.classList.remove("tryout-error");
    status.textContent = "Running on an ingest worker...";
    try {
      const response = await fetch(panel.dataset.tryoutUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": token ? token.value : "" },
        credentials: "same-origin",
      });
      const data = await response.json();
      if (!response.ok) {
        status.classList.add("tryout-error");
        status.textContent = data.detail || `Failed (${response.status}).`;
        result.replaceChildren();
        return;
      }
      status.textContent =
        `${data.objects.length} object(s) on ${data.camera}'s newest frame, ` +
        `run on ${data.worker} in ${Math.round(data.elapsed_ms)} ms.`;
      show(result, data);
    } catch (error) {
      status.classList.add("tryout-error");
      status.textContent = `Failed: ${error}`;
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const panel of document.querySelectorAll(".model-tryout")) {
      panel.querySelector("[data-tryout-run]").addEventListener("click", () => run(panel));
    }
  });
})();
