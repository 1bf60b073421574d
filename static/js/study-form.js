// Study forms, made quicker. Every form works without this file (plain posts that re-render);
// with it: metadata rows are added and removed in place, Enter in the assignee search runs the
// search, and the submit button cannot be pressed twice. Behaviour hangs off data-attributes,
// so content swapped in by htmx (e.g. a re-rendered quick-create form) gets it too.
(function () {
  "use strict";

  // --- Metadata rows: a Django formset ------------------------------------------------------

  function parts(fieldset) {
    const prefix = fieldset.dataset.formsetPrefix;
    return {
      prefix: prefix,
      max: parseInt(fieldset.dataset.formsetMax, 10),
      total: fieldset.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]'),
      initial: fieldset.querySelector('input[name="' + prefix + '-INITIAL_FORMS"]'),
      rows: fieldset.querySelector("[data-formset-rows]"),
      template: fieldset.querySelector("template[data-formset-template]"),
      add: fieldset.querySelector("[data-formset-add]"),
      count: fieldset.querySelector("[data-formset-count]")
    };
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // Give a row index `index`: rewrite "<prefix>-<n>-" (or "__prefix__") in its attributes.
  function renumber(row, prefix, index) {
    const pattern = new RegExp("(" + escapeRegExp(prefix) + "-)(\\d+|__prefix__)(-)", "g");
    row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        const value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(pattern, "$1" + index + "$3")); }
      });
    });
    const remove = row.querySelector("[data-formset-remove]");
    if (remove) { remove.setAttribute("aria-label", "Remove row " + (index + 1)); }
  }

  function enhanceRow(row) {
    row.querySelectorAll("[data-formset-delete]").forEach(function (el) { el.hidden = true; });
    row.querySelectorAll("[data-formset-remove]").forEach(function (el) { el.hidden = false; });
  }

  function refresh(fieldset) {
    const p = parts(fieldset);
    const rows = p.rows.querySelectorAll("[data-formset-row]");
    rows.forEach(function (row, index) { renumber(row, p.prefix, index); });
    p.total.value = String(rows.length);
    if (parseInt(p.initial.value, 10) > rows.length) { p.initial.value = String(rows.length); }
    p.count.textContent = String(rows.length);
    p.add.hidden = rows.length >= p.max;
  }

  function enhanceFormset(fieldset) {
    if (fieldset.dataset.formsetReady === "true") { return; }
    fieldset.dataset.formsetReady = "true";
    fieldset.querySelectorAll("[data-formset-rows] [data-formset-row]").forEach(function (row) {
      const checkbox = row.querySelector("[data-formset-delete] input[type=checkbox]");
      if (checkbox && checkbox.checked) { row.remove(); return; }
      enhanceRow(row);
    });
    refresh(fieldset);
  }

  function addRow(fieldset) {
    const p = parts(fieldset);
    if (p.rows.querySelectorAll("[data-formset-row]").length >= p.max) { return; }
    const row = p.template.content.querySelector("[data-formset-row]").cloneNode(true);
    enhanceRow(row);
    p.rows.appendChild(row);
    refresh(fieldset);
    const first = row.querySelector("input[type=text]");
    if (first) { first.focus(); }
  }

  function removeRow(row) {
    const fieldset = row.closest("[data-formset]");
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    refresh(fieldset);
    const target = next ? next.querySelector("input[type=text]") : parts(fieldset).add;
    if (target && !target.hidden) { target.focus(); }
  }

  // --- The assignee search ------------------------------------------------------------------

  function runSearch(picker) {
    const input = picker.querySelector("[data-assignee-query]");
    window.htmx.trigger(input, "assignee-search");
    input.focus();
  }

  // --- Submit once --------------------------------------------------------------------------

  function lock(form) {
    form.dataset.submitting = "true";
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("[data-submit-button]").forEach(function (button) {
      button.disabled = true;
      const progress = button.querySelector("[data-submit-progress]");
      if (progress) { progress.hidden = false; }
    });
    const status = form.querySelector("[data-submit-status]");
    if (status) { status.textContent = "Sending…"; }
  }

  function unlock(form) {
    delete form.dataset.submitting;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("[data-submit-button]").forEach(function (button) {
      button.disabled = false;
      const progress = button.querySelector("[data-submit-progress]");
      if (progress) { progress.hidden = true; }
    });
    const status = form.querySelector("[data-submit-status]");
    if (status) { status.textContent = ""; }
  }

  // --- Wiring -------------------------------------------------------------------------------

  function init(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (root.matches && root.matches("[data-formset]")) { enhanceFormset(root); }
    root.querySelectorAll("[data-formset]").forEach(enhanceFormset);
  }

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    const add = target.closest("[data-formset-add]");
    if (add) {
      event.preventDefault();
      addRow(add.closest("[data-formset]"));
      return;
    }
    const remove = target.closest("[data-formset-remove]");
    if (remove) {
      event.preventDefault();
      removeRow(remove.closest("[data-formset-row]"));
      return;
    }
    const search = target.closest("[data-assignee-search]");
    if (search && window.htmx) {
      event.preventDefault();
      runSearch(search.closest("[data-assignee-picker]"));
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.target instanceof Element)) { return; }
    const input = event.target.closest("[data-assignee-query]");
    if (input && window.htmx) {
      // Enter searches; it must not submit the whole form.
      event.preventDefault();
      runSearch(input.closest("[data-assignee-picker]"));
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-submit-once")) { return; }
    if (form.dataset.submitting === "true") {
      event.preventDefault();
      return;
    }
    // Disable after the browser has read the form (a disabled button is not submitted).
    form.dataset.submitting = "true";
    window.setTimeout(function () { lock(form); }, 0);
  });

  // An htmx-submitted form is sendable again once its request is over.
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail && event.detail.elt;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-submit-once")) { unlock(form); }
  });

  // Back to this page from the history: the form may be sent again; the server recognises a
  // repeated submission and leads to the study it already created.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { document.querySelectorAll("form[data-submit-once]").forEach(unlock); }
  });

  document.addEventListener("htmx:load", function (event) { init(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
