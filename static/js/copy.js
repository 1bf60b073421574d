// Copy buttons ({% copy_button %}): hidden in the HTML, shown here because only a script can
// copy. The result is announced in a status region.
(function () {
  "use strict";

  function show(root) {
    if (!root || !root.querySelectorAll) { return; }
    root.querySelectorAll("button[data-copy-text][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function statusRegion() {
    let region = document.getElementById("copy-status");
    if (!region) {
      region = document.createElement("p");
      region.id = "copy-status";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      document.body.appendChild(region);
    }
    return region;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("button[data-copy-text]") : null;
    if (!button) { return; }
    const label = button.querySelector(".copy-button__label") || button;
    const original = button.dataset.label || label.textContent;
    button.dataset.label = original;
    copyText(button.dataset.copyText).then(
      function () { label.textContent = "Copied"; statusRegion().textContent = "Copied to the clipboard."; },
      function () { label.textContent = "Copy failed"; statusRegion().textContent = "Could not copy; select the text instead."; }
    ).finally(function () {
      window.setTimeout(function () { label.textContent = original; }, 1500);
    });
  });

  document.addEventListener("htmx:load", function (event) { show(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { show(document); });
  } else {
    show(document);
  }
})();
