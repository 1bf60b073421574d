// "Find in PACS" and "Read from DICOM file", made quicker: "Use this study" in the htmx panel,
// and a header read in place, fill the create form where it is, without losing what is typed
// elsewhere. Without this file the same buttons are links and posts that hand the values back
// through the server (see studies/views/pacs.py).
(function () {
  "use strict";
  if (window.viewerAdminPacs) { return; }
  window.viewerAdminPacs = true;

  function formFor(source) {
    const tools = document.querySelector('[data-pacs-tools][data-pacs-source="' + source + '"]');
    return tools ? tools.closest("form") : null;
  }

  function setField(form, name, value) {
    const input = form.querySelector('[name="' + name + '"]');
    if (!input) { return false; }
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function rowInputs(row) {
    return {
      key: row.querySelector('input[name$="-key"]'),
      value: row.querySelector('input[name$="-value"]')
    };
  }

  function isBlank(row) {
    const inputs = rowInputs(row);
    return !inputs.key.value.trim() && !inputs.value.value.trim();
  }

  // Put each pair in the row with the same key, else a blank row, else a new row (added the
  // way study-form.js adds one). Returns the keys that were filled.
  function fillMetadata(form, metadata) {
    const fieldset = form.querySelector("[data-formset]");
    const filled = [];
    if (!fieldset) { return filled; }
    Object.keys(metadata).forEach(function (key) {
      const rows = function () {
        return Array.from(fieldset.querySelectorAll("[data-formset-rows] [data-formset-row]"));
      };
      let row = rows().find(function (r) { return rowInputs(r).key.value.trim() === key; }) ||
        rows().find(isBlank);
      if (!row) {
        const add = fieldset.querySelector("[data-formset-add]");
        if (!add || add.hidden || fieldset.dataset.formsetReady !== "true") { return; }
        add.click();
        row = rows()[rows().length - 1];
      }
      const inputs = rowInputs(row);
      inputs.key.value = key;
      inputs.value.value = metadata[key];
      filled.push(key);
    });
    return filled;
  }

  function fill(source, data) {
    const form = formFor(source);
    if (!form) { return "The form to fill was not found; nothing was filled."; }
    const prefix = source === "quick" ? "quick-" : "";
    const names = [];
    if (setField(form, prefix + "study_instance_uid", data.uid)) { names.push("Study Instance UID"); }
    if (data.description && setField(form, prefix + "study_description", data.description)) {
      names.push("study description");
    }
    const keys = Object.keys(data.metadata || {});
    const filledKeys = fillMetadata(form, data.metadata || {});
    let text = "Filled in: " + names.join(", ");
    if (filledKeys.length) { text += " and metadata rows " + filledKeys.join(", "); }
    text += ". Check them, then create the study.";
    const missed = keys.filter(function (k) { return filledKeys.indexOf(k) < 0; });
    if (missed.length) {
      text += " Not filled: metadata " + missed.join(", ") + " (only the full form has metadata rows).";
    }
    return text;
  }

  document.addEventListener("click", function (event) {
    const use = event.target.closest("[data-pacs-use]");
    if (!use) { return; }
    const panel = use.closest("[data-pacs-panel]");
    if (!panel) { return; }
    event.preventDefault();
    const status = panel.querySelector("[data-pacs-status]");
    const text = fill(panel.dataset.pacsForm, JSON.parse(use.dataset.pacsUse));
    if (status) { status.textContent = text; }
  });

  // A header read in place: the answer carries what to fill.
  document.addEventListener("htmx:afterSwap", function (event) {
    const answer = event.target.querySelector("[data-pacs-fill]");
    if (!answer) { return; }
    const tools = answer.closest("[data-pacs-tools]");
    answer.textContent = fill(tools.dataset.pacsSource, JSON.parse(answer.dataset.pacsFill));
  });
})();
