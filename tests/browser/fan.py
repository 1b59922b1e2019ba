"""Steps of the fan's journey in the browser, shared by the tests and the screenshot script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Records what the fan sees on the render page, from before its own script runs: every change of the
# stage words and of the progress bar, in order.
WATCH_PROGRESS = """
window.__seen = [];
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("render");
  if (!root) { return; }
  var note = function () {
    var bar = document.getElementById("bar"), stage = document.getElementById("stage");
    var item = {state: root.dataset.state, stage: stage ? stage.textContent.trim() : "",
                value: bar ? Number(bar.value) : -1,
                eta: (document.getElementById("eta") || {}).textContent || "", t: Date.now()};
    var last = window.__seen[window.__seen.length - 1];
    if (!last || last.state !== item.state || last.stage !== item.stage || last.value !== item.value) {
      window.__seen.push(item);
    }
  };
  note();
  new MutationObserver(note).observe(root, {subtree: true, attributes: true, childList: true, characterData: true});
});
"""


def start_ad(page: Any, selfie: Path, name: str = "Asha") -> list[dict]:
    """From the catalog to the render page; returns the list the page's WebSocket frames are appended to."""
    frames: list[dict] = []

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    page.add_init_script(WATCH_PROGRESS)
    page.goto("/")
    page.locator(".card a").first.click()
    page.wait_for_url("**/t/**")
    page.set_input_files("input[type=file][name=selfie]", str(selfie))
    page.fill("input[name=name]", name)
    page.check("input[name=consent]")
    page.get_by_role("button", name="Make my ad").click()
    page.wait_for_url("**/r/**")
    return frames


def wait_final(page: Any, timeout_ms: int = 180_000) -> str:
    page.wait_for_function(
        "['done','failed','cancelled'].includes(document.getElementById('render').dataset.state)",
        timeout=timeout_ms,
    )
    return str(page.evaluate("document.getElementById('render').dataset.state"))


def seen(page: Any) -> list[dict]:
    return list(page.evaluate("window.__seen || []"))


def play_muted(page: Any, selector: str, seconds: float = 1.0) -> dict:
    """Mute, play, and report readyState and currentTime before and after `seconds` of playback."""
    return dict(page.evaluate(
        """async ([selector, seconds]) => {
            const v = document.querySelector(selector);
            v.muted = true;
            const before = {readyState: v.readyState, currentTime: v.currentTime};
            await v.play();
            await new Promise(r => setTimeout(r, seconds * 1000));
            return {before, readyState: v.readyState, currentTime: v.currentTime, paused: v.paused,
                    duration: v.duration, width: v.videoWidth, error: v.error && v.error.code};
        }""",
        [selector, seconds],
    ))
