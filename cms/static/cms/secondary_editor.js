// The display page's secondary models, edited by name: each item picks a classify model from a
// select, the primary model's classes as checkboxes ("2: car"; none ticked: all classes), a
// minimum size and an interval. The JSON field stays the truth and is what the form posts
// (cms/display_secondary.py's shape, so the API is unchanged): every edit rewrites it, and
// "Edit as JSON" shows it again. JSON the editor cannot show (typed by hand, or posted back with
// an error) keeps the text box, so nothing is lost; the server's messages stay on the field.
// The choices come from the server on the field (cms/secondary_editor.py).
"use strict";

(function () {
  const KEYS = ["model", "classes", "min_size", "every_s"];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const isInt = (v) => Number.isInteger(v) && v >= 0;
  const isNumber = (v) => typeof v === "number" && isFinite(v);

  // The stored list when the editor can show every part of it; null otherwise.
  function parse(text) {
    let value;
    try {
      value = JSON.parse(text.trim() === "" ? "[]" : text);
    } catch (error) {
      return null;
    }
    if (!Array.isArray(value)) return null;
    for (const item of value) {
      if (item === null || typeof item !== "object" || Array.isArray(item)) return null;
      if (Object.keys(item).some((key) => !KEYS.includes(key))) return null;
      if (!isInt(item.model) || item.model < 1) return null;
      if (item.classes !== undefined && item.classes !== null) {
        if (!Array.isArray(item.classes) || !item.classes.every(isInt)) return null;
      }
      if (item.min_size !== undefined && !isNumber(item.min_size)) return null;
      if (item.every_s !== undefined && !isNumber(item.every_s)) return null;
    }
    return value;
  }

  // One item per line, spaced like Python's json.dumps (as the drawing board writes zones).
  function formatList(items) {
    if (!items.length) return "[]";
    const lines = items.map((item) => JSON.stringify(item).replace(/,/g, ", ").replace(/":/g, '": '));
    return "[\n  " + lines.join(",\n  ") + "\n]";
  }

  function Editor(field) {
    const options = JSON.parse(field.dataset.secondaryOptions);
    const root = el("div", { class: "secondary-editor", "data-secondary-editor": "" });
    const list = el("div", { class: "secondary-items", "data-secondary-items": "" });
    const toolbar = el("div", { class: "secondary-toolbar" });
    const addButton = el("button", { type: "button", class: "button", "data-secondary-add": "" },
      "Add a secondary model");
    const jsonButton = el("button", { type: "button", class: "button", "data-secondary-json": "" },
      "Edit as JSON");
    const note = el("p", { class: "help", "data-secondary-note": "" });
    toolbar.append(addButton, " ", jsonButton);
    root.append(list, toolbar, note);
    field.parentNode.insertBefore(root, field);
    let items = null;

    const modelLabel = new Map(options.models.map((m) => [m.id, m.label]));

    function write() {
      field.value = formatList(items.map((item) => {
        const out = {};
        for (const key of KEYS) if (item[key] !== undefined) out[key] = item[key];
        return out;
      }));
    }

    function numberInput(item, key, attrs) {
      const input = el("input", { type: "number", ...attrs });
      input.value = item[key] === undefined ? "" : String(item[key]);
      input.placeholder = String(options.defaults[key]);
      input.addEventListener("input", () => {
        // Empty: the default (the server fills it in); anything else as typed, checked there.
        item[key] = input.value === "" ? undefined : Number(input.value);
        write();
      });
      return input;
    }

    function classesPart(item) {
      const box = el("fieldset", { class: "secondary-classes", "data-secondary-classes": "" });
      box.appendChild(el("legend", {}, "Classes of the display's model"));
      if (!options.classes.length) {
        // Until the primary model's weights are read its class names are unknown: ids, typed.
        const input = el("input", { type: "text", "data-secondary-class-ids": "", placeholder: "all" });
        input.value = (item.classes || []).join(", ");
        input.addEventListener("input", () => {
          const parts = input.value.split(",").map((p) => p.trim()).filter(Boolean);
          item.classes = parts.length ? parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : null;
          write();
        });
        box.append(input, el("span", { class: "help" },
          " Class ids, comma separated; empty: all. The display's model's class names are not " +
          "known yet (its weights have not been read)."));
        return box;
      }
      const ticked = new Set(item.classes || []);
      const hint = el("span", { class: "help" });
      const showHint = () => { hint.textContent = item.classes ? "" : " none ticked: all classes"; };
      for (const choice of options.classes) {
        const label = el("label", { class: "secondary-class" });
        const box1 = el("input", { type: "checkbox", value: String(choice.id), "data-secondary-class": "" });
        box1.checked = ticked.has(choice.id);
        box1.addEventListener("change", () => {
          const chosen = [...box.querySelectorAll("[data-secondary-class]")]
            .filter((b) => b.checked).map((b) => Number(b.value)).sort((a, b) => a - b);
          item.classes = chosen.length ? chosen : null;
          showHint();
          write();
        });
        label.append(box1, " " + choice.label);
        box.appendChild(label);
      }
      showHint();
      box.appendChild(hint);
      return box;
    }

    function itemPart(item, index) {
      const row = el("div", { class: "secondary-item", "data-secondary-item": String(index) });
      const select = el("select", { "data-secondary-model": "", "aria-label": "classify model" });
      const ids = options.models.map((m) => m.id);
      if (!ids.includes(item.model)) ids.push(item.model);
      for (const id of ids) {
        const option = el("option", { value: String(id) }, modelLabel.get(id) || "model " + id);
        select.appendChild(option);
      }
      select.value = String(item.model);
      select.addEventListener("change", () => { item.model = Number(select.value); write(); });
      const remove = el("button", { type: "button", class: "button", "data-secondary-remove": "" }, "Remove");
      remove.addEventListener("click", () => { items.splice(index, 1); write(); render(); });
      const modelLabelEl = el("label", {}, "Model ");
      modelLabelEl.appendChild(select);
      const size = el("label", {}, "Min size (px) ");
      size.appendChild(numberInput(item, "min_size", { min: "1", step: "1", "data-secondary-min-size": "" }));
      const every = el("label", {}, "Every (s) ");
      every.appendChild(numberInput(item, "every_s", { min: "0", step: "any", "data-secondary-every-s": "" }));
      const head = el("div", { class: "secondary-item-head" });
      head.append(modelLabelEl, " ", size, " ", every, " ", remove);
      row.append(head, classesPart(item));
      return row;
    }

    function render() {
      list.replaceChildren(...items.map(itemPart));
      if (!items.length) list.appendChild(el("p", { class: "help" }, "No secondary models."));
      const free = options.models.filter((m) => !items.some((i) => i.model === m.id));
      addButton.disabled = items.length >= options.max_items || !free.length;
      note.textContent = !options.models.length
        ? "No enabled classify model to add: upload one (its task is read from its weights)."
        : items.length >= options.max_items ? "At most " + options.max_items + " secondary models." : "";
    }

    function showEditor() {
      const parsed = parse(field.value);
      if (parsed === null) {
        showJson("This JSON cannot be edited by name as it is: correct it here (the errors above say what is wrong).");
        return;
      }
      items = parsed;
      field.hidden = true;
      list.hidden = false;
      addButton.hidden = false;
      jsonButton.textContent = "Edit as JSON";
      render();
    }

    function showJson(why) {
      items = null;
      field.hidden = false;
      list.hidden = true;
      addButton.hidden = true;
      jsonButton.textContent = "Edit by name";
      note.textContent = why || "";
    }

    addButton.addEventListener("click", () => {
      const free = options.models.find((m) => !items.some((i) => i.model === m.id));
      if (!free) return;
      items.push({ model: free.id, classes: null, ...options.defaults });
      write();
      render();
    });
    jsonButton.addEventListener("click", () => (items === null ? showEditor() : showJson()));
    showEditor();
  }

  function start() {
    for (const field of document.querySelectorAll("textarea[data-secondary-options]")) Editor(field);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
