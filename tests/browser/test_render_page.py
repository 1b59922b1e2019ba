"""The render page tells the truth after a reload and deletes for good; a faceless selfie never reaches it."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from tests.browser.fan import seen, start_ad, wait_final

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def faceless_jpg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bright, sharp photo with no face in it (scikit-image's coffee cup): a valid file the face screen refuses."""
    from skimage import data

    out = tmp_path_factory.mktemp("faceless") / "coffee.jpg"
    cv2.imwrite(str(out), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    return out


def test_reload_mid_render_shows_the_true_state(phone, selfie_jpg: Path) -> None:
    start_ad(phone, selfie_jpg)
    phone.wait_for_function(
        "document.getElementById('render').dataset.state === 'running' && document.getElementById('bar').value > 0"
    )
    before = int(phone.evaluate("document.getElementById('bar').value"))
    phone.reload()
    first = seen(phone)[0]  # drawn by the server, before the page's script had a message
    if first["state"] == "running":
        assert first["value"] >= before, (before, first)
        assert first["stage"] in ("Checking your selfie", "Putting you in the ad", "Adding the finishing touches")
    else:
        assert first == {**first, "state": "done", "value": 100}, first
    assert wait_final(phone) == "done"
    assert phone.locator("#player").is_visible()
    assert not phone.locator("#working").is_visible()


# Keep a handle on the page's sockets so the test can cut one, as a dropped mobile connection would.
KEEP_SOCKETS = """
window.__sockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const socket = new NativeWebSocket(url, protocols);
  window.__sockets.push(socket);
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""


def test_dropped_connection_reconnects_by_itself(phone, selfie_jpg: Path) -> None:
    phone.add_init_script(KEEP_SOCKETS)
    start_ad(phone, selfie_jpg)
    phone.wait_for_function("window.__sockets.length === 1 && window.__sockets[0].readyState === 1")
    phone.evaluate("window.__sockets[0].close(4000)")  # not 4403: the page must try again
    phone.wait_for_function("!document.getElementById('connection').hidden")
    assert "Connection lost; trying again" in phone.locator("#connection").inner_text()
    assert wait_final(phone) == "done"
    assert phone.evaluate("window.__sockets.length") >= 2
    assert phone.locator("#connection").is_hidden()
    assert phone.locator("#player").is_visible()


def test_faceless_selfie_is_refused_on_the_form_with_one_line(phone, faceless_jpg: Path) -> None:
    """The server's face screen answers on the form itself: no render page, no render, the engine's line
    at the selfie field and in the summary, and the fan picks another photo there."""
    phone.goto("/")
    phone.locator(".card a").first.click()
    phone.wait_for_url("**/t/**")
    form_url = phone.url
    phone.set_input_files("input[type=file][name=selfie]", str(faceless_jpg))
    phone.fill("input[name=name]", "Asha")
    phone.check("input[name=consent]")
    phone.get_by_role("button", name="Make my ad").click()
    phone.wait_for_selector("#id_selfie_errors")
    assert phone.url == form_url and "/r/" not in phone.url
    line = "We could not find a face in this photo"
    assert line in phone.locator("#id_selfie_errors").inner_text()
    assert line in phone.locator("#form-problems").inner_text()
    assert phone.locator("input[name=selfie]").get_attribute("aria-invalid") == "true"
    assert phone.input_value("input[name=name]") == "Asha"  # what the fan typed is kept
    assert phone.locator("input[type=file][name=selfie]").is_visible()


def test_delete_removes_the_ad_and_its_share_link(phone, selfie_jpg: Path) -> None:
    start_ad(phone, selfie_jpg)
    assert wait_final(phone) == "done"
    render_url = phone.url
    share = phone.locator("#share-link").input_value()
    video = share + "video.mp4"
    assert phone.request.get(video, headers={"Range": "bytes=0-9"}).status == 206
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.get_by_role("button", name="Delete this ad").click()
    phone.wait_for_url(lambda url: "/r/" not in url)
    assert "deleted" in phone.get_by_role("status").text_content()
    assert phone.request.get(share).status == 404
    assert phone.request.get(video).status == 404
    assert phone.goto(render_url).status == 404
