// The event timeline: pictures shown once loaded (a placeholder otherwise, never a broken
// image); on the list j/ArrowDown and k/ArrowUp move the selection and Enter opens it; on an
// entry's page ArrowLeft/k and ArrowRight/j go to the newer and older entry, Escape back to
// the list. Keys typed into a filter are the filter's, not ours.
(function () {
  "use strict";

  // A picture that loaded replaces its placeholder; one that did not (404: no thumbnail)
  // is removed. It may have finished before this script ran, hence the check of `complete`.
  for (const img of document.querySelectorAll("img.tl-thumb")) {
    const shown = () => img.parentElement.classList.add("tl-loaded");
    const failed = () => img.remove();
    if (img.complete) {
      if (img.naturalWidth > 0) shown(); else failed();
    } else {
      img.addEventListener("load", shown, { once: true });
      img.addEventListener("error", failed, { once: true });
    }
  }

  const typing = (event) => {
    const target = event.target;
    return target instanceof HTMLElement && (
      target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(target.tagName)
    );
  };
  const plain = (event) => !(event.ctrlKey || event.metaKey || event.altKey) && !typing(event);

  // The filters are a GET form: changing a select loads the filtered timeline. The link it
  // makes holds only the fields given.
  const filters = document.getElementById("timeline-filters");
  if (filters) {
    const submit = () => {
      const params = new URLSearchParams();
      for (const field of filters.querySelectorAll("select[name], input[name]")) {
        if (field.value) params.append(field.name, field.value);
      }
      const target = new URL(filters.action, location.href);
      target.search = params.toString();
      target.hash = "";
      location.href = target.href;
    };
    filters.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
    for (const select of filters.querySelectorAll("select")) {
      select.addEventListener("change", submit);
    }
  }

  const list = document.getElementById("timeline");
  if (list) {
    const rows = Array.from(list.querySelectorAll("tr.tl-row"));
    let selected = -1;
    const select = (index) => {
      if (!rows.length) return;
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (selected >= 0) {
        rows[selected].classList.remove("tl-selected");
        rows[selected].removeAttribute("aria-selected");
      }
      selected = index;
      rows[index].classList.add("tl-selected");
      rows[index].setAttribute("aria-selected", "true");
      rows[index].scrollIntoView({ block: "nearest" });
    };
    // Back from an entry's page (its link ends in #<kind>-<id>): that row is selected.
    const back = location.hash ? rows.findIndex((row) => "#" + row.id === location.hash) : -1;
    if (back >= 0) select(back);
    rows.forEach((row, index) => row.addEventListener("click", (event) => {
      if (!(event.target instanceof HTMLAnchorElement)) select(index);
    }));
    document.addEventListener("keydown", (event) => {
      if (!plain(event)) return;
      if (event.key === "j" || event.key === "ArrowDown") {
        select(selected + 1);
      } else if (event.key === "k" || event.key === "ArrowUp") {
        select(selected < 0 ? 0 : selected - 1);
      } else if (event.key === "Enter" && selected >= 0 && !(event.target instanceof HTMLAnchorElement)) {
        location.href = rows[selected].dataset.href;
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  const detail = document.getElementById("timeline-detail");
  if (detail) {
    const go = (url) => { if (url) location.href = url; };
    document.addEventListener("keydown", (event) => {
      if (!plain(event)) return;
      if (event.key === "ArrowLeft" || event.key === "k") {
        go(detail.dataset.newerUrl);
      } else if (event.key === "ArrowRight" || event.key === "j") {
        go(detail.dataset.olderUrl);
      } else if (event.key === "Escape") {
        go(detail.dataset.listUrl);
      } else {
        return;
      }
      event.preventDefault();
    });
  }
})();
