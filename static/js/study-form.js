// Study forms, made quicker. Every form works without this file (plain posts that re-render);
// with it: metadata rows are added and removed in place, the assignee search is a combobox
// (Enter there never submits), a field's old message goes as it is changed, and the submit
// button cannot be pressed twice (after 5 s it says the Viewer API is slow). Behaviour hangs off data-attributes,
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

  // --- The assignee type-ahead: the WAI-ARIA combobox pattern ------------------------------
  // The search box is a combobox over the choices (the radio buttons the form submits): the
  // arrows move the active choice, Enter chooses it (or, with none active, searches now),
  // Escape closes the list down to the chosen one; how many users match is announced.

  function pickerParts(picker) {
    const list = picker.querySelector("[data-assignee-options]");
    return {
      input: picker.querySelector("[data-assignee-query]"),
      list: list,
      status: picker.querySelector("[data-assignee-count]"),
      options: list ? Array.prototype.slice.call(list.querySelectorAll(".choice")) : []
    };
  }

  function radioOf(option) { return option.querySelector("input[type=radio]"); }

  // The element that is the listbox's option for assistive technology: the choice's text, a
  // sibling of its radio (an option must not contain a focusable control; a label may not
  // take the option role).
  function handleOf(option) { return option.querySelector(".choice__text") || option; }

  function setActive(picker, option) {
    const p = pickerParts(picker);
    p.options.forEach(function (other) { other.classList.toggle("is-active", other === option); });
    if (option) {
      p.input.setAttribute("aria-activedescendant", handleOf(option).id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.input.removeAttribute("aria-activedescendant");
    }
  }

  function setExpanded(picker, expanded) {
    const p = pickerParts(picker);
    p.input.setAttribute("aria-expanded", expanded && p.options.length ? "true" : "false");
    p.options.forEach(function (option) { option.hidden = !expanded && !radioOf(option).checked; });
    if (!expanded) { setActive(picker, null); }
  }

  function syncSelected(picker) {
    pickerParts(picker).options.forEach(function (option) {
      handleOf(option).setAttribute("aria-selected", radioOf(option).checked ? "true" : "false");
    });
  }

  function enhancePicker(picker) {
    const p = pickerParts(picker);
    if (!p.input) { return; }
    p.input.setAttribute("role", "combobox");
    p.input.setAttribute("aria-autocomplete", "list");
    if (!p.list) { p.input.setAttribute("aria-expanded", "false"); return; }
    const listId = p.input.id + "_listbox";
    p.list.id = listId;
    p.list.setAttribute("role", "listbox");
    p.list.setAttribute("aria-label", "Choices");
    p.input.setAttribute("aria-controls", listId);
    p.options.forEach(function (option, index) {
      const handle = handleOf(option);
      handle.id = listId + "_" + index;
      handle.setAttribute("role", "option");
      // The option is what the keyboard and assistive technology use; the radio inside it
      // only carries the value.
      const radio = radioOf(option);
      radio.tabIndex = -1;
      radio.setAttribute("aria-hidden", "true");
    });
    syncSelected(picker);
    // Open with the results of a search; folded to the chosen person on a fresh page.
    setExpanded(picker, p.input.value.trim() !== "");
    if (p.status) {
      const summary = picker.querySelector("[data-assignee-summary]");
      p.status.textContent = summary ? summary.textContent.trim() : "";
    }
  }

  function choose(picker, option) {
    const radio = radioOf(option);
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    syncSelected(picker);
    setExpanded(picker, false);
    const p = pickerParts(picker);
    if (p.status) { p.status.textContent = "Chosen: " + option.querySelector(".choice__name").textContent.trim() + "."; }
  }

  function runSearch(picker) {
    const input = picker.querySelector("[data-assignee-query]");
    window.htmx.trigger(input, "assignee-search");
    input.focus();
  }

  function onPickerKey(event, input) {
    const picker = input.closest("[data-assignee-picker]");
    const p = pickerParts(picker);
    const visible = p.options.filter(function (option) { return !option.hidden; });
    const active = p.options.filter(function (option) { return option.classList.contains("is-active"); })[0];
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        event.preventDefault();
        if (input.getAttribute("aria-expanded") !== "true") { setExpanded(picker, true); }
        const shown = p.options.filter(function (option) { return !option.hidden; });
        if (!shown.length) { return; }
        const step = event.key === "ArrowDown" ? 1 : -1;
        const at = shown.indexOf(active);
        const next = at < 0 ? (step > 0 ? 0 : shown.length - 1) : (at + step + shown.length) % shown.length;
        setActive(picker, shown[next]);
        return;
      }
      case "Enter":
        // Enter never submits the form from here.
        event.preventDefault();
        if (active && visible.indexOf(active) >= 0) { choose(picker, active); } else { runSearch(picker); }
        return;
      case "Escape":
        event.preventDefault();  // also keeps the search box's text
        setExpanded(picker, false);
        return;
      default:
    }
  }

  // --- Submit once --------------------------------------------------------------------------

  const SLOW_AFTER_MS = 5000;

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
    form.slowTimer = window.setTimeout(function () {
      if (status && form.dataset.submitting === "true") {
        status.textContent = "Still sending — the Viewer API is slow. Please wait; the form will not be sent twice.";
      }
    }, SLOW_AFTER_MS);
  }

  function unlock(form) {
    delete form.dataset.submitting;
    form.removeAttribute("aria-busy");
    window.clearTimeout(form.slowTimer);
    form.querySelectorAll("[data-submit-button]").forEach(function (button) {
      button.disabled = false;
      const progress = button.querySelector("[data-submit-progress]");
      if (progress) { progress.hidden = true; }
    });
    const status = form.querySelector("[data-submit-status]");
    if (status) { status.textContent = ""; }
  }

  // --- Stale errors -------------------------------------------------------------------------
  // A field's message goes once the coordinator changes that field: it spoke of the old value.

  function clearFieldError(control) {
    const field = control.closest(".field--error");
    if (!field || !control.closest("form[data-submit-once]")) { return; }
    field.classList.remove("field--error");
    field.querySelectorAll(".errorlist").forEach(function (list) {
      if (!list.closest("[data-assignee-results]")) { list.remove(); }
    });
    field.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  // --- Wiring -------------------------------------------------------------------------------

  function init(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (root.matches && root.matches("[data-formset]")) { enhanceFormset(root); }
    root.querySelectorAll("[data-formset]").forEach(enhanceFormset);
    const around = root.closest && root.closest("[data-assignee-picker]");
    if (around) { enhancePicker(around); }
    root.querySelectorAll("[data-assignee-picker]").forEach(enhancePicker);
  }

  document.addEventListener("input", function (event) {
    if (event.target instanceof Element) { clearFieldError(event.target); }
  });

  document.addEventListener("change", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    clearFieldError(target);
    const picker = target.closest("[data-assignee-picker]");
    if (picker && target.matches("input[type=radio]")) { syncSelected(picker); }
  });

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
    if (!(event.target instanceof Element)) { return; }
    const input = event.target.closest("[data-assignee-query]");
    if (input && window.htmx) { onPickerKey(event, input); }
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
