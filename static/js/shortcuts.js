// Keyboard shortcuts on every page: "/" the UID look-up, "n" a new study, "?" the list of
// shortcuts. Keys typed into a field, or with Ctrl, Alt or Meta, are left alone. Without
// JavaScript nothing here is needed: the look-up box, the links and the forms all work.
(function () {
  "use strict";

  function typing(target) {
    if (!(target instanceof Element)) { return false; }
    return target.isContentEditable ||
      target.closest("input, textarea, select, [contenteditable], dialog[open]") !== null;
  }

  function dialog() { return document.getElementById("shortcuts"); }

  function showShortcuts() {
    const box = dialog();
    if (box && !box.open) { box.showModal(); }
  }

  function newStudy() {
    const panel = document.querySelector("[data-quick-create-panel]");
    if (panel) {
      panel.open = true;
      const first = panel.querySelector("form select, form input:not([type=hidden]):not([tabindex='-1'])");
      if (first) { first.focus(); }
      return true;
    }
    const link = document.querySelector(".site-nav a[href$='/studies/new/']");
    if (link) { window.location.assign(link.href); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) { return; }
    if (typing(event.target)) { return; }
    if (event.key === "/") {
      const box = document.getElementById("uid-lookup");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else if (event.key === "n") {
      if (newStudy()) { event.preventDefault(); }
    } else if (event.key === "?") {
      event.preventDefault();
      showShortcuts();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    const open = document.querySelector("[data-shortcuts-open]");
    if (open && dialog()) {
      open.hidden = false;
      open.addEventListener("click", showShortcuts);
    }
  });
})();
