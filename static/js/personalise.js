// The personalise form: take a selfie with the camera (or pick a file), check it in the browser before it
// is sent, and say what to fix. The server checks everything again; this only saves a fan a wasted upload.
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][name=selfie]");
  var tools = document.getElementById("selfie-tools");
  if (!input || !tools) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var maxBytes = Number(tools.dataset.maxBytes) || Infinity;
  var maxPixels = Number(tools.dataset.maxPixels) || Infinity;
  var MIN_SIDE = 240, DARK = 45, BLURRY = 200, SAMPLE = 256;  // BLURRY: calibrated against the server's check
  var stream = null, previewUrl = null;

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + " MB"; }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  // Brightness and a blur estimate (variance of the Laplacian) on the middle of a small grey copy,
  // where a selfie's face is.
  function measure(image) {
    var w = image.width, h = image.height, scale = SAMPLE / Math.max(w, h);
    var cw = Math.max(1, Math.round(w * scale)), ch = Math.max(1, Math.round(h * scale));
    var canvas = document.createElement("canvas");
    canvas.width = cw; canvas.height = ch;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(image, 0, 0, cw, ch);
    var x0 = Math.floor(cw * 0.2), y0 = Math.floor(ch * 0.15), x1 = Math.ceil(cw * 0.8), y1 = Math.ceil(ch * 0.85);
    var data = ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data, rw = x1 - x0, rh = y1 - y0;
    var grey = new Float32Array(rw * rh), sum = 0, i;
    for (i = 0; i < rw * rh; i++) {
      grey[i] = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
      sum += grey[i];
    }
    var n = 0, s = 0, s2 = 0, x, y, lap;
    for (y = 1; y < rh - 1; y++) {
      for (x = 1; x < rw - 1; x++) {
        i = y * rw + x;
        lap = grey[i - 1] + grey[i + 1] + grey[i - rw] + grey[i + rw] - 4 * grey[i];
        s += lap; s2 += lap * lap; n++;
      }
    }
    return { brightness: sum / (rw * rh), sharpness: n ? s2 / n - (s / n) * (s / n) : 0 };
  }

  function countFaces(image) {
    if (!("FaceDetector" in window)) { return Promise.resolve(null); }
    try {
      return new window.FaceDetector({ maxDetectedFaces: 3, fastMode: true }).detect(image)
        .then(function (faces) { return faces.length; }, function () { return null; });
    } catch (err) { return Promise.resolve(null); }
  }

  function check(file) {
    var problems = [], warnings = [];
    if (file.size > maxBytes) {
      problems.push("This photo is too big (" + megabytes(file.size) + "). Please use one under " + megabytes(maxBytes) + ".");
      return Promise.resolve({ problems: problems, warnings: warnings });
    }
    return decode(file).then(function (image) {
      var w = image.width, h = image.height;
      if (w * h > maxPixels) {
        problems.push("This photo has too many pixels. A normal phone selfie is fine.");
      } else if (Math.min(w, h) < MIN_SIDE) {
        problems.push("This photo is too small (" + w + "×" + h + " pixels). Please use a bigger photo, or take a selfie with the camera.");
      } else {
        var m = measure(image);
        tools.dataset.brightness = m.brightness.toFixed(1);
        tools.dataset.sharpness = m.sharpness.toFixed(1);
        if (m.brightness < DARK) { warnings.push("It looks too dark. Face a window or a light and take it again."); }
        else if (m.sharpness < BLURRY) { warnings.push("It looks blurry. Hold the phone still, tap on your face to focus, and take it again."); }
      }
      return countFaces(image).then(function (faces) {
        if (faces === 0) { warnings.push("We could not see a face. Look straight at the camera, with nothing covering your face."); }
        if (faces > 1) { warnings.push("There seems to be more than one person. Only you in the photo, please."); }
        return { problems: problems, warnings: warnings, faces: faces };
      });
    }, function () {
      problems.push("We could not read this file as a photo. Please choose a JPEG, PNG or WebP picture.");
      return { problems: problems, warnings: warnings };
    });
  }

  function report(result) {
    var box = $("selfie-check");
    box.textContent = "";
    var list = result.problems.length ? result.problems : result.warnings;
    input.setCustomValidity(result.problems[0] || "");
    input.setAttribute("aria-invalid", result.problems.length ? "true" : "false");
    box.className = result.problems.length ? "check bad" : result.warnings.length ? "check warn" : "check ok";
    if (!list.length) {
      box.textContent = result.faces === 1 ? "Looks good: one face, bright and sharp enough." : "Looks good: bright and sharp enough.";
      return;
    }
    var head = document.createElement("strong");
    head.textContent = result.problems.length ? "Please choose another photo:" : "You can send it, but it may not work:";
    var ul = document.createElement("ul");
    list.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; ul.appendChild(li); });
    box.appendChild(head);
    box.appendChild(ul);
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.setCustomValidity("");
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    if (!file) { $("selfie-preview").hidden = true; return; }
    previewUrl = URL.createObjectURL(file);
    $("selfie-img").src = previewUrl;
    $("selfie-check").className = "check";
    $("selfie-check").textContent = "Checking your photo…";
    $("selfie-preview").hidden = false;
    tools.dataset.checked = "pending";
    delete tools.dataset.brightness;
    delete tools.dataset.sharpness;
    check(file).then(function (result) {
      if (input.files[0] !== file) { return; }  // a newer choice replaced it meanwhile
      report(result);
      tools.dataset.checked = result.problems.length ? "bad" : result.warnings.length ? "warn" : "ok";
    });
  });

  // The camera: a live view with a face-outline guide; the snapshot becomes the file input's file.
  var canCapture = navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.DataTransfer &&
    HTMLCanvasElement.prototype.toBlob;
  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    $("camera").hidden = true;
    $("camera-start").hidden = false;
  }
  if (canCapture) {
    $("camera-start").hidden = false;
    $("camera-open").addEventListener("click", function () {
      $("camera-problem").hidden = true;
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false })
        .then(function (s) {
          stream = s;
          $("camera-video").srcObject = s;
          $("camera").hidden = false;
          $("camera-start").hidden = true;
          $("camera-snap").focus();
        }, function (err) {
          var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
          $("camera-problem").textContent = denied
            ? "The camera is blocked for this site. Allow it in your browser's settings, or choose a photo instead."
            : "We could not open a camera. You can choose a photo instead.";
          $("camera-problem").hidden = false;
        });
    });
    $("camera-cancel").addEventListener("click", stopCamera);
    $("camera-snap").addEventListener("click", function () {
      var video = $("camera-video");
      if (!video.videoWidth) { return; }
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        if (!blob) { return; }
        var files = new DataTransfer();
        files.items.add(new File([blob], "selfie.jpg", { type: "image/jpeg", lastModified: Date.now() }));
        input.files = files.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        stopCamera();
        input.focus();
      }, "image/jpeg", 0.92);
    });
  }

  // The name: say how much room is left.
  var name = document.querySelector("input[name=name]"), count = $("name-count");
  if (name && count && name.maxLength > 0) {
    var show = function () { count.textContent = name.value.length + " of " + name.maxLength + " characters"; };
    name.addEventListener("input", show);
    show();
  }

  // One submission only: a slow upload must not become two renders.
  var form = input.form;
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      setTimeout(function () { button.disabled = true; button.textContent = "Sending your selfie…"; }, 0);
    }
  });
  window.addEventListener("pageshow", function () {  // back from the next page: the form is usable again
    var button = form.querySelector("button[type=submit]");
    if (button && button.disabled) { button.disabled = false; button.textContent = "Make my ad"; }
  });
})();
