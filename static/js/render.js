// The render page: follow one render over its WebSocket, reconnecting with backoff, and show the result.
// The server already drew the current state, so without this script the page is right after a reload.
(function () {
  "use strict";
  var root = document.getElementById("render");
  if (!root) { return; }
  var FINAL = { done: true, failed: true, cancelled: true };
  var words = JSON.parse(document.getElementById("stage-words").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var base = root.dataset.baseUrl || window.location.origin;
  var socket = null, attempt = 0, retryTimer = null, finished = false, firstSample = null;

  function show(id, visible) { $(id).hidden = !visible; }

  function absolute(path) { return new URL(path, base + "/").href; }

  function update(data) {
    if (!data || !data.state) { return; }
    root.dataset.state = data.state;
    var percent = Math.round((data.progress || 0) * 100);
    var stageWords = words[data.stage] || "";
    $("bar").value = percent;
    $("bar").textContent = percent + "%";
    $("percent").textContent = percent + "%";
    $("stage").textContent = stageWords || data.message || "";
    $("message").textContent = data.message && data.message !== stageWords ? data.message : "";
    $("eta").textContent = data.state === "running" ? timeLeft(data.progress || 0) : "";
    if (data.preview_url && !$("preview-img").getAttribute("src")) {
      $("preview-img").setAttribute("src", data.preview_url);
      show("preview", true);
    }
    show("working", !FINAL[data.state]);
    if (data.state === "done") { showDone(data); }
    if (data.state === "failed" || data.state === "cancelled") {
      $("fail-message").textContent = data.message || "";
      show("failed", true);
    }
    if (FINAL[data.state]) { stop(); }
  }

  // Time left from the rate seen on this page so far; nothing until there is enough to go on.
  function timeLeft(progress) {
    var now = Date.now();
    if (!firstSample || progress < firstSample.progress) { firstSample = { time: now, progress: progress }; return ""; }
    var done = progress - firstSample.progress, elapsed = (now - firstSample.time) / 1000;
    if (done < 0.05 || elapsed < 2) { return ""; }
    var seconds = Math.max(1, Math.round(elapsed / done * (1 - progress)));
    return seconds < 60 ? "about " + seconds + " s left" : "about " + Math.round(seconds / 60) + " min left";
  }

  function showDone(data) {
    var player = $("player");
    if (data.poster_url && player.getAttribute("poster") !== data.poster_url) { player.setAttribute("poster", data.poster_url); }
    if (data.video_url && player.getAttribute("src") !== data.video_url) { player.setAttribute("src", data.video_url); }
    if (data.share_url) {
      var link = absolute(data.share_url);
      $("share-link").value = link;
      $("open-share").href = data.share_url;
      var text = "Watch my " + root.dataset.title + " ad: " + link;
      $("whatsapp").href = "https://wa.me/?text=" + encodeURIComponent(text);
      $("x-share").href = "https://x.com/intent/post?url=" + encodeURIComponent(link) +
        "&text=" + encodeURIComponent("Watch my " + root.dataset.title + " ad");
    }
    if (data.video_url) { $("download").href = data.video_url + "?download=1"; }
    show("done", true);
  }

  function stop() {
    finished = true;
    clearTimeout(retryTimer);
    if (socket && socket.readyState <= 1) { socket.close(1000); }
  }

  function connect() {
    if (finished) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.onopen = function () { attempt = 0; show("connection", false); };
    socket.onmessage = function (event) {
      try { update(JSON.parse(event.data)); } catch (err) { /* a malformed message changes nothing */ }
    };
    socket.onclose = function (event) {
      if (finished) { return; }
      if (event.code === 4403) {  // the server says this page is not ours (session gone): stop trying
        $("connection").textContent = "Live updates stopped. Reload the page to see the latest state.";
        show("connection", true);
        return;
      }
      attempt += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(attempt - 1, 5))) * (0.75 + Math.random() * 0.5);
      $("connection").textContent = "Connection lost; trying again in " + Math.round(delay / 1000) + " s…";
      show("connection", true);
      retryTimer = setTimeout(connect, delay);
    };
  }

  // Phones: one tap opens the system share sheet (WhatsApp, Messages, ...) with the link.
  var native = $("share-native");
  if (navigator.share) {
    native.hidden = false;
    native.addEventListener("click", function () {
      var url = $("share-link").value;
      navigator.share({ title: root.dataset.title, text: "Watch my " + root.dataset.title + " ad", url: url })
        .catch(function () { /* the fan closed the share sheet */ });
    });
  }

  var copy = $("copy");
  copy.addEventListener("click", function () {
    var input = $("share-link");
    var done = function () { $("copied").textContent = "Link copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
    } else {
      input.select();
      try { if (document.execCommand("copy")) { done(); } } catch (err) { /* the text stays selected */ }
    }
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // Coming back to a sleeping tab: reconnect at once rather than waiting out the backoff.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !finished && (!socket || socket.readyState > 1)) {
      clearTimeout(retryTimer);
      attempt = 0;
      connect();
    }
  });

  if (!FINAL[root.dataset.state]) { connect(); } else { finished = true; }
})();
