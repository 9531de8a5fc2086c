// Refreshes the camera page's newest frame every 2 s; without one, a placeholder says why.
// The admin loads form media in <head>, so wait for the page before looking for the image.
document.addEventListener("DOMContentLoaded", function () {
  for (const img of document.querySelectorAll("img[data-refresh-src]")) {
    const status = img.parentElement.querySelector("[data-snapshot-status]");
    const placeholder = img.parentElement.querySelector("[data-snapshot-placeholder]");
    img.addEventListener("error", async () => {
      img.hidden = true;
      if (placeholder) placeholder.hidden = false;
      const response = await fetch(img.dataset.refreshSrc, { credentials: "same-origin" });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        const why = body.detail || "No frame: " + response.status;
        if (placeholder) placeholder.textContent = why;
        if (status) status.textContent = "Checked every 2 s.";
      }
    });
    img.addEventListener("load", () => {
      img.hidden = false;
      if (placeholder) placeholder.hidden = true;
      if (status) status.textContent = "The newest frame, refreshed every 2 s.";
    });
    setInterval(() => {
      img.src = img.dataset.refreshSrc + "&t=" + Date.now();
    }, 2000);
  }
});
