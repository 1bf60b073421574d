// The worklist's small helpers on top of htmx. Everything here is an improvement: without
// JavaScript the page works through plain links and forms.
(function () {
  "use strict";

  // Filter requests: leave empty fields out of the query string, so the address bar shows only
  // the filters that are on; the assignee search text is not a filter.
  document.addEventListener("htmx:configRequest", function (event) {
    const source = event.detail.elt;
    if (!(source instanceof Element) || !source.closest("#worklist-filters")) { return; }
    const params = event.detail.parameters;
    const keys = [];
    params.forEach(function (value, key) { keys.push(key); });
    keys.forEach(function (key) {
      const drop = params.get(key) === "" ||
        (key === "assignee_query" && !source.hasAttribute("data-assignee-query"));
      if (drop) { params.delete(key); }
    });
  });

  // "Load more": keep the keyboard where the reader is, on the first row that arrived. Pages
  // come from an offset cursor, so a study created since the first page (a quick-create, or
  // someone else's) shifts a row already shown into the next page: drop such repeats.
  let lastRowBeforeMore = null;
  let shownBeforeMore = null;
  // Where the keyboard was before a swap replaced it (a chip, "Reset filters", a field).
  let focusedId = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const active = document.activeElement;
    focusedId = active && active !== document.body && active.id ? active.id : null;
    const target = event.detail.target;
    if (target && target.id === "load-more") {
      lastRowBeforeMore = target.previousElementSibling;
      shownBeforeMore = new Set();
      target.parentElement.querySelectorAll("tr[data-study-id]").forEach(function (row) {
        shownBeforeMore.add(row.dataset.studyId);
      });
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (lastRowBeforeMore) {
      let row = lastRowBeforeMore.isConnected ? lastRowBeforeMore.nextElementSibling : null;
      let firstNew = null;
      while (row) {
        const next = row.nextElementSibling;
        if (row.dataset.studyId && shownBeforeMore.has(row.dataset.studyId)) {
          row.remove();
        } else if (!firstNew && row.dataset.studyId) {
          firstNew = row;
        }
        row = next;
      }
      const link = firstNew && firstNew.querySelector(".worklist-desc a");
      if (link) { link.focus(); }
      lastRowBeforeMore = null;
      shownBeforeMore = null;
    }

    // Quick-create: after a study was created the form comes back empty; start again at its
    // first field.
    const elt = event.detail.elt;
    if (elt instanceof Element && elt.matches("[data-quick-create][data-created]")) {
      const first = elt.querySelector("form select, form input:not([type=hidden]), form textarea");
      if (first) { first.focus(); }
    } else if (elt instanceof Element && elt.matches("[data-quick-create]")) {
      // Sent with errors: to the first field that has one.
      const invalid = elt.querySelector("[aria-invalid=true]");
      if (invalid) { invalid.focus(); }
    }
    // Otherwise the keyboard stays where it was, on the new copy of that element.
    const active = document.activeElement;
    if (focusedId && (!active || active === document.body)) {
      const again = document.getElementById(focusedId);
      if (again) { again.focus(); }
    }
    updateSummary();
  });

  // The summary counts the rows actually shown: after "Load more" and a quick-create too.
  function updateSummary() {
    const rows = document.getElementById("worklist-rows");
    const summary = document.querySelector("[data-worklist-summary]");
    if (!rows || !summary) { return; }
    const count = summary.querySelector("[data-shown-count]");
    if (count) { count.textContent = String(rows.querySelectorAll("tr[data-study-id]").length); }
    const more = summary.querySelector("[data-shown-more]");
    if (more) { more.textContent = document.getElementById("load-more") ? ", more below" : ", the whole list"; }
  }
})();
