// Catalog cards: a short muted preview of each ad, on hover (mouse) or with the Preview button (touch,
// keyboard). The clip is fetched only when asked for; it loops over its first few seconds.
(function () {
  "use strict";
  var SECONDS = 5;
  document.querySelectorAll(".card").forEach(function (card) {
    var video = card.querySelector("video.preview");
    var toggle = card.querySelector(".preview-toggle");
    if (!video || !toggle) { return; }
    toggle.hidden = false;
    var playing = false;

    function play() {
      if (!video.getAttribute("src")) { video.src = video.dataset.src; }
      video.muted = true;
      var started = video.play();
      if (started && started.catch) { started.catch(function () { stop(); }); }
      playing = true;
      toggle.setAttribute("aria-pressed", "true");
    }
    function stop() {
      video.pause();
      playing = false;
      toggle.setAttribute("aria-pressed", "false");
    }
    video.addEventListener("timeupdate", function () {
      if (video.currentTime > SECONDS) { video.currentTime = 0; }
    });
    card.addEventListener("pointerenter", function (event) { if (event.pointerType === "mouse") { play(); } });
    card.addEventListener("pointerleave", function (event) { if (event.pointerType === "mouse") { stop(); } });
    toggle.addEventListener("click", function () { if (playing) { stop(); } else { play(); } });
  });
})();
