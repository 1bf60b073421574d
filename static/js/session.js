// Automatic log-off, in the page. The server signs a session out after the idle limit on its
// own (accounts/idle.py); this script warns a little before, offers "Stay signed in", keeps a
// half-filled create/edit form as a draft at the deadline, then goes to sign-in (and back).
// Its own checks send `X-Background: true`, so they never keep the session alive; input in
// the page (typing, clicking) does, and is reported when the warning would be due.
(function () {
  "use strict";

  const box = document.getElementById("session-warning");
  if (!box) { return; }
  const idleMs = parseFloat(box.dataset.sessionIdle) * 1000;
  const warnMs = parseFloat(box.dataset.sessionWarning) * 1000;
  const statusUrl = box.dataset.sessionStatusUrl;
  const countdown = box.querySelector("[data-session-countdown]");
  const stayButton = box.querySelector("[data-session-stay]");

  let deadline = Date.now() + idleMs;
  let lastContact = Date.now();
  let lastInput = 0;
  let timer = null;
  let ticker = null;
  let draftSaved = false;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function headers(background) {
    const result = { "X-CSRFToken": csrfToken() };
    if (background) { result["X-Background"] = "true"; }
    return result;
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(0, deadline - warnMs - Date.now()));
  }

  function goToSignIn() {
    const here = window.location.pathname + window.location.search;
    window.location.assign(box.dataset.loginUrl + "?next=" + encodeURIComponent(here));
  }

  function applyStatus(status) {
    if (!status.signedIn) { goToSignIn(); return; }
    deadline = Date.now() + status.secondsLeft * 1000;
    if (deadline - Date.now() > warnMs + 1000) {
      hideWarning();
      schedule();
    } else {
      showWarning();
    }
  }

  function request(method, background) {
    return window.fetch(statusUrl, {
      method: method,
      credentials: "same-origin",
      headers: headers(background),
      // A session that ran out is redirected to sign-in, like every page. Not following that
      // redirect leaves the sign-in page's message for the page we are about to open.
      redirect: "manual"
    }).then(function (response) {
      if (response.type === "opaqueredirect" || !response.ok) {
        return { signedIn: false, secondsLeft: 0 };
      }
      return response.json();
    });
  }

  // When the warning would be due: input since the last request means someone is working
  // here, which counts as activity; otherwise ask the server (another tab may have been used).
  function check() {
    if (lastInput > lastContact) { stay(); return; }
    request("GET", true).then(applyStatus, schedule);
  }

  function stay() {
    lastContact = Date.now();
    request("POST", false).then(applyStatus, schedule);
  }

  function saveDraft() {
    const selector = box.dataset.draftForm;
    const form = selector && document.querySelector(selector);
    if (draftSaved || !form) { return Promise.resolve(); }
    draftSaved = true;
    const data = new FormData(form);
    data.append("_draft_path", window.location.pathname);
    return window.fetch(box.dataset.draftSaveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: headers(true),
      body: data,
      redirect: "manual",
      keepalive: true
    }).catch(function () { /* the server keeps a form posted after the deadline too */ });
  }

  function tick() {
    const left = deadline - Date.now();
    countdown.textContent = String(Math.max(0, Math.ceil(left / 1000)));
    if (left <= 2000 && !draftSaved) { saveDraft(); }
    if (left <= 0) {
      window.clearInterval(ticker);
      ticker = null;
      saveDraft().then(function () { request("GET", true).then(applyStatus, goToSignIn); });
    }
  }

  function showWarning() {
    const wasHidden = box.hidden;
    box.hidden = false;
    if (wasHidden) { stayButton.focus(); }
    if (!ticker) { ticker = window.setInterval(tick, 250); }
    tick();
  }

  function hideWarning() {
    box.hidden = true;
    window.clearInterval(ticker);
    ticker = null;
    draftSaved = false;
  }

  stayButton.addEventListener("click", function (event) {
    event.preventDefault();
    stay();
  });

  ["keydown", "pointerdown", "input"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (box.hidden || !box.contains(event.target)) { lastInput = Date.now(); }
    }, { capture: true, passive: true });
  });

  // An htmx request a person caused moved the server's deadline; a background one did not.
  document.addEventListener("htmx:afterRequest", function (event) {
    const config = event.detail.requestConfig || {};
    const sent = config.headers || {};
    if (String(sent["X-Background"]).toLowerCase() === "true") { return; }
    lastContact = Date.now();
    deadline = lastContact + idleMs;
    hideWarning();
    schedule();
  });

  // --- A kept draft, offered again ---------------------------------------------------------

  const offer = document.querySelector("[data-draft-offer]");
  const draftData = document.getElementById("draft-data");
  const MANAGEMENT = /-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/;

  function fieldsNamed(form, name) {
    return form.querySelectorAll('[name="' + window.CSS.escape(name) + '"]');
  }

  function ensureField(form, name) {
    // A metadata row beyond the ones shown: let study-form.js add rows until it exists.
    let guard = 60;
    while (!fieldsNamed(form, name).length && guard > 0) {
      const fieldset = form.querySelector('[data-formset][data-formset-ready="true"]');
      const add = fieldset && fieldset.querySelector("[data-formset-add]");
      if (!add || add.hidden) { return; }
      add.click();
      guard -= 1;
    }
  }

  function fill(form, data) {
    Object.keys(data).forEach(function (name) {
      if (MANAGEMENT.test(name)) { return; }
      const values = data[name];
      ensureField(form, name);
      fieldsNamed(form, name).forEach(function (field, index) {
        if (field.type === "checkbox" || field.type === "radio") {
          field.checked = values.indexOf(field.value) !== -1;
        } else if (field.multiple && field.options) {
          Array.prototype.forEach.call(field.options, function (option) {
            option.selected = values.indexOf(option.value) !== -1;
          });
        } else if (field.type !== "file" && field.type !== "submit") {
          field.value = values[Math.min(index, values.length - 1)] || "";
        }
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  function dropDraft() {
    const body = new FormData();
    body.append("_draft_path", window.location.pathname);
    window.fetch(offer.dataset.draftDiscardUrl, {
      method: "POST", credentials: "same-origin", headers: headers(false), body: body
    });
    offer.hidden = true;
  }

  if (offer && draftData) {
    offer.hidden = false;
    offer.querySelector("[data-draft-restore]").addEventListener("click", function () {
      const form = document.querySelector(box.dataset.draftForm || "main form[method=post]");
      if (form) { fill(form, JSON.parse(draftData.textContent)); }
      dropDraft();
      const first = form && form.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    });
    offer.querySelector("[data-draft-discard]").addEventListener("click", dropDraft);
  }

  schedule();
})();
