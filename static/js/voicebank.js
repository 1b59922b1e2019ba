// The voice bank page: while recordings are being analysed, ask their states every few seconds and reload
// when one has changed, so its report appears. A file chosen in the upload form is never thrown away:
// then the page only says that a report is ready. Without this script a manual reload shows the same.
(function () {
  "use strict";
  var root = document.querySelector(".voices[data-status-url]");
  if (!root || !root.hasAttribute("data-busy")) { return; }
  var shown = {};
  document.querySelectorAll(".recording[data-state]").forEach(function (el) {
    shown[el.id.replace("recording-", "")] = el.dataset.state;
  });
  var note = document.getElementById("busy-note");

  function changed(states) {
    return Object.keys(states).some(function (pk) { return shown[pk] !== states[pk]; }) ||
      Object.keys(shown).some(function (pk) { return !(pk in states); });
  }

  function fileChosen() {
    var input = document.querySelector(".upload-form input[type=file]");
    return input && input.files && input.files.length > 0;
  }

  function poll() {
    fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && changed(data.recordings)) {
          if (!fileChosen()) { window.location.reload(); return; }
          if (note) { note.textContent = "A report is ready: reload the page to see it."; }
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
