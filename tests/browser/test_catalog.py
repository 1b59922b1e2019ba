"""The catalog's muted preview plays on hover with a mouse, and with its button by touch or keyboard."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PLAYING = """() => { const v = document.querySelector('.card video');
                     return !v.paused && v.muted && v.currentTime > 0.3 && v.readyState >= 2; }"""


def test_hover_plays_a_muted_preview(desktop) -> None:
    desktop.goto("/")
    video = desktop.locator(".card video")
    assert video.get_attribute("src") is None  # nothing fetched until asked for
    assert "asks for a selfie and your name" in desktop.locator(".card-meta").inner_text()
    desktop.locator(".card").first.hover()
    desktop.wait_for_function(PLAYING)
    desktop.mouse.move(0, 0)
    desktop.wait_for_function("document.querySelector('.card video').paused")


def test_tap_and_keyboard_use_the_preview_button(phone) -> None:
    phone.goto("/")
    button = phone.get_by_role("button", name="Play a silent preview of Demo: the car-phone call")
    assert button.get_attribute("aria-pressed") == "false"
    button.tap()
    phone.wait_for_function(PLAYING)
    assert button.get_attribute("aria-pressed") == "true"
    button.focus()
    phone.keyboard.press("Space")
    phone.wait_for_function("document.querySelector('.card video').paused")
    assert button.get_attribute("aria-pressed") == "false"
    phone.keyboard.press("Tab")  # on to the card's link, then into the form
    assert phone.evaluate("document.activeElement.textContent").strip().startswith("Demo: the car-phone call")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/t/**")
