"""A fan on a phone: catalog, selfie, live progress over the WebSocket, the finished ad playing, sharing."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser.fan import play_muted, seen, start_ad, wait_final

pytestmark = pytest.mark.browser


# The system share sheet is a phone's; Chromium on Linux has none. Stand in for it and record the calls.
SHARE_SHEET = """
window.__shared = [];
Object.defineProperty(navigator, "share", {configurable: true, value: function (data) {
  window.__shared.push(data); return Promise.resolve();
}});
"""


def test_selfie_to_playing_ad_and_share_page(phone, browser, live_site, selfie_jpg: Path) -> None:
    phone.add_init_script(SHARE_SHEET)
    frames = start_ad(phone, selfie_jpg)
    assert wait_final(phone) == "done", phone.locator("#fail-message").text_content()

    # The bar moved through the stages, in words, as the WebSocket said, never backwards.
    views = seen(phone)
    values = [v["value"] for v in views]
    assert values == sorted(values), views
    assert values[-1] == 100
    assert len({v for v in values if 0 < v < 100}) >= 2, views
    stages = [v["stage"] for v in views]
    assert "Putting you in the ad" in stages and stages[-1] == "Your ad is ready", stages
    running = [f for f in frames if f.get("state") == "running"]
    assert len(running) >= 3 and frames[-1]["state"] == "done", frames
    assert {f["stage"] for f in running} >= {"swap"}, frames
    # Time left shows once the page has seen enough (render.js: 2 s and 5 points of progress since its
    # first running update); a fast render may finish before that, a slow one must show it.
    first = next(v for v in views if v["state"] == "running")
    due = [v for v in views
           if v["state"] == "running" and v["t"] - first["t"] >= 2500 and v["value"] - first["value"] >= 6]
    assert all(v["eta"] for v in due), views
    etas = [v["eta"] for v in views if v["eta"]]
    assert all(e.startswith("about ") and e.endswith(" left") for e in etas), views

    # The finished ad plays on the page.
    assert phone.locator("#done").is_visible()
    played = play_muted(phone, "#player")
    assert played["error"] is None and played["readyState"] >= 2, played
    assert played["currentTime"] > played["before"]["currentTime"] + 0.3, played

    # Sharing: the phone's share sheet, WhatsApp and X carry the link; copy puts it in the field's selection.
    link = phone.locator("#share-link").input_value()
    phone.get_by_role("button", name="Share…").click()
    assert phone.evaluate("window.__shared") == [
        {"title": "Demo: the car-phone call", "text": "Watch my Demo: the car-phone call ad", "url": link}
    ]
    quoted = quote(link, safe="")
    assert phone.locator("#whatsapp").get_attribute("href").endswith(quoted)
    assert phone.locator("#x-share").get_attribute("href").startswith(f"https://x.com/intent/post?url={quoted}&")
    assert phone.locator("#download").get_attribute("href").endswith("/video.mp4?download=1")

    # A friend opens the share link in their own browser (no cookies of the fan's).
    assert link.startswith(live_site.url + "/a/"), link
    friend_context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        friend = friend_context.new_page()
        friend.goto(link)
        meta = friend.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('meta[property^="og:"], meta[name^="twitter:"]')]
                   .map(m => [m.getAttribute('property') || m.getAttribute('name'), m.content]))"""
        )
        assert meta["og:title"] == "Asha in Demo: the car-phone call", meta
        assert meta["og:type"] == "video.other"
        assert meta["og:image"].startswith(live_site.url) and meta["og:image"].endswith("/poster.jpg"), meta
        assert meta["og:video"].startswith(live_site.url) and meta["og:video"].endswith("/video.mp4"), meta
        assert meta["twitter:card"] == "summary_large_image"
        poster = friend.request.get(meta["og:image"])
        assert poster.ok and poster.headers["content-type"] == "image/jpeg"
        ranged = friend.request.get(meta["og:video"], headers={"Range": "bytes=0-99"})
        assert ranged.status == 206 and len(ranged.body()) == 100
        assert friend.get_by_text("AI-generated").first.is_visible()
        assert friend.locator("#views").inner_text() == "Watched 1 time"
        assert friend.get_by_role("link", name="Make your own").get_attribute("href").startswith("/t/")
        shared = play_muted(friend, "video")
        assert shared["error"] is None and shared["readyState"] >= 2, shared
        assert shared["currentTime"] > shared["before"]["currentTime"] + 0.3, shared
    finally:
        friend_context.close()
