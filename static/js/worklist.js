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

// The quick-create panel: remember whether the coordinator left it open or closed.
(function () {
  "use strict";

  document.addEventListener("toggle", function (event) {
    const panel = event.target;
    if (!(panel instanceof HTMLDetailsElement) || !panel.matches("[data-quick-create-panel]")) { return; }
    const token = panel.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token || !panel.dataset.panelUrl) { return; }
    const body = new URLSearchParams({ open: panel.open ? "1" : "0" });
    fetch(panel.dataset.panelUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.value },
    }).catch(function () { /* not remembered this time; the panel works all the same */ });
  }, true);
})();

// The live worklist: every few seconds (data-live-seconds) while the tab is visible, ask the
// server for the first page's studies as (id, version) pairs and compare them with the rows
// shown. New or changed ones are announced ("3 new or changed studies — show"); nothing on
// the page moves until the coordinator chooses "show", which reloads the list region only.
// The check is a background request: it never keeps the session alive.
(function () {
  "use strict";

  let timer = null;
  let busy = false;

  function results() { return document.querySelector("#worklist-results[data-live-url]"); }

  function shownVersions(region) {
    const shown = new Map();
    region.querySelectorAll("tr[data-study-id]").forEach(function (row) {
      shown.set(row.dataset.studyId, row.dataset.version || "");
    });
    return shown;
  }

  function announce(region, count) {
    const notice = region.querySelector("[data-live-notice]");
    if (!notice) { return; }
    if (count === 0) { notice.replaceChildren(); return; }
    const text = count === 1 ? "1 new or changed study" : count + " new or changed studies";
    const link = document.createElement("a");
    link.href = window.location.pathname + window.location.search;
    link.textContent = "show";
    link.setAttribute("data-live-show", "");
    notice.replaceChildren(document.createTextNode(text + " \u2014 "), link);
  }

  function check() {
    const region = results();
    if (!region || busy || document.hidden) { return; }
    busy = true;
    fetch(region.dataset.liveUrl, {
      credentials: "same-origin",
      headers: { "X-Background": "true", "Accept": "application/json" },
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer || !Array.isArray(answer.studies) || !region.isConnected) { return; }
      const shown = shownVersions(region);
      let count = 0;
      answer.studies.forEach(function (pair) {
        if (!shown.has(pair[0]) || shown.get(pair[0]) !== pair[1]) { count += 1; }
      });
      announce(region, count);
    }).catch(function () { /* no answer this time: try again at the next check */ })
      .finally(function () { busy = false; });
  }

  let watched = null;

  function start() {
    const region = results();
    if (region === watched) { return; }
    watched = region;
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    if (!region) { return; }
    const seconds = Math.max(1, parseInt(region.dataset.liveSeconds || "15", 10));
    timer = window.setInterval(check, seconds * 1000);
  }

  document.addEventListener("click", function (event) {
    const link = event.target instanceof Element && event.target.closest("[data-live-show]");
    if (!link || !window.htmx) { return; }
    event.preventDefault();
    window.htmx.ajax("GET", link.getAttribute("href"), { target: "#worklist-results", swap: "outerHTML" });
  });

  // Hidden tab: no checks; back in view: check at once.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { check(); }
  });
  document.addEventListener("DOMContentLoaded", start);
  // A new list region (filters changed, "show"): check that one from now on.
  document.addEventListener("htmx:afterSettle", start);
})();
