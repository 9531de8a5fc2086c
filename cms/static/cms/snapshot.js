// Refreshes the camera page's newest frame every 2 s (and says why when there is none).
(function () {
  for (const img of document.querySelectorAll("img[data-refresh-src]")) {
    const status = img.parentElement.querySelector("[data-snapshot-status]");
    img.addEventListener("error", async () => {
      const response = await fetch(img.dataset.refreshSrc, { credentials: "same-origin" });
      if (status && !response.ok) {
        const body = await response.json().catch(() => ({}));
        status.textContent = body.detail || "No frame: " + response.status;
      }
    });
    img.addEventListener("load", () => {
      if (status) status.textContent = "The newest frame, refreshed every 2 s.";
    });
    setInterval(() => {
      img.src = img.dataset.refreshSrc + "&t=" + Date.now();
    }, 2000);
  }
})();
