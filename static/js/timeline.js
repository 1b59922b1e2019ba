/* The admin's speech timeline: drag across the waveform to place a dialogue slot.
   The span (in 0.05 s steps) goes into the first empty dialogue-slot row, adding one if needed;
   the row's fields stay the keyboard way to do the same. The admin loads this in <head>, hence the wait. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var svg = document.querySelector("svg.speech-timeline");
  if (!svg) { return; }
  var duration = parseFloat(svg.getAttribute("data-duration"));
  var view = svg.viewBox.baseVal;
  var help = document.getElementById("timeline-help");
  var mark = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  mark.setAttribute("y", "0");
  mark.setAttribute("height", String(view.height));
  mark.setAttribute("fill", "#1565c0");
  mark.setAttribute("fill-opacity", "0.3");
  mark.style.display = "none";
  svg.appendChild(mark);
  var from = null;

  function seconds(event) {
    var box = svg.getBoundingClientRect();
    var f = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
    return Math.round(f * duration * 20) / 20;
  }
  function draw(a, b) {
    mark.setAttribute("x", String(Math.min(a, b) / duration * view.width));
    mark.setAttribute("width", String(Math.abs(b - a) / duration * view.width));
    mark.style.display = "";
  }
  function emptyRow() {
    var rows = document.querySelectorAll("#slots-group tr.form-row:not(.empty-form)");
    for (var i = 0; i < rows.length; i++) {
      var start = rows[i].querySelector("input[name$='-start']");
      var end = rows[i].querySelector("input[name$='-end']");
      if (start && end && !start.value && !end.value) { return rows[i]; }
    }
    return null;
  }
  function place(a, b) {
    var row = emptyRow();
    if (!row) {
      var add = document.querySelector("#slots-group .add-row a");
      if (add) { add.click(); }
      row = emptyRow();
    }
    if (!row) { help.textContent = "No dialogue-slot row to fill: add one below first."; return; }
    row.querySelector("input[name$='-start']").value = a.toFixed(2);
    row.querySelector("input[name$='-end']").value = b.toFixed(2);
    help.textContent = "Slot placed at " + a.toFixed(2) + "–" + b.toFixed(2) + " s: type its line, then save.";
    var line = row.querySelector("[name$='-line']");
    if (line) { line.focus(); }
  }

  svg.addEventListener("pointerdown", function (event) {
    from = seconds(event);
    svg.setPointerCapture(event.pointerId);
    draw(from, from);
    event.preventDefault();
  });
  svg.addEventListener("pointermove", function (event) {
    if (from !== null) { draw(from, seconds(event)); }
  });
  svg.addEventListener("pointerup", function (event) {
    if (from === null) { return; }
    var to = seconds(event), a = Math.min(from, to), b = Math.max(from, to);
    from = null;
    if (b - a < 0.2) { mark.style.display = "none"; return; }
    place(a, b);
  });
});
