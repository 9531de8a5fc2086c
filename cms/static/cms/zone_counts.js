// Objects per zone on a display's page, from its newest result: polls the admin's
// /admin/cms/display/<id>/zones/ (the shape of GET /api/v1/display/zones/) every 2 s.
// The admin loads form media in <head>, so wait for the page before looking for the panel.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const panel of document.querySelectorAll("[data-zone-counts-url]")) {
    const body = panel.querySelector("tbody");
    const status = panel.querySelector("[data-zone-counts-status]");

    function cell(row, text, cls) {
      const td = row.insertCell();
      td.textContent = text;
      if (cls) td.className = cls;
    }

    function render(zones) {
      const rows = zones.map((zone) => {
        const row = document.createElement("tr");
        const classes = Object.entries(zone.by_class || {}).map(([name, n]) => name + " " + n);
        cell(row, zone.zone);
        cell(row, String(zone.count), "num");
        cell(row, classes.join(", ") || "-");
        return row;
      });
      body.replaceChildren(...rows);
    }

    async function poll() {
      try {
        const response = await fetch(panel.dataset.zoneCountsUrl, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        const data = await response.json();
        if (!response.ok) throw new Error(data.detail || String(response.status));
        render(data);
        status.textContent = "From the newest result, updated " + new Date().toLocaleTimeString() + ".";
      } catch (e) {
        status.textContent = "Counts not available: " + e.message;
      }
    }

    setInterval(poll, 2000);
  }
});
