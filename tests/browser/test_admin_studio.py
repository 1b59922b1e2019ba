"""The admin's studio in the browser: from the template's change page to a live test render and its stats."""

from __future__ import annotations

import pytest

from tests.browser.fan import WATCH_PROGRESS, play_muted, seen, wait_final

pytestmark = pytest.mark.browser

LOADED = "sel => [...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth > 0)"


def test_pick_face_then_test_render_with_live_progress(admin_page) -> None:
    page = admin_page
    page.add_init_script(WATCH_PROGRESS)
    page.goto("/admin/catalog/template/")
    page.get_by_role("link", name="Demo: the car-phone call").click()
    page.get_by_role("link", name="Open the studio").click()
    page.wait_for_url("**/studio/**")

    tracks = page.locator("button.track")
    assert tracks.count() >= 1
    assert page.evaluate(LOADED, "button.track img")
    assert "frames 0–" in tracks.first.inner_text()
    tracks.first.click()
    page.wait_for_load_state()
    assert "is now the fan's face" in page.locator(".messagelist").inner_text()
    assert page.locator("button.track").first.get_attribute("aria-pressed") == "true"
    renders_before = int(page.locator("#stat-renders").inner_text())

    sample = page.locator("input[name=sample][value=astronaut]")
    assert sample.is_checked()
    assert page.evaluate(LOADED, ".sample img")
    page.get_by_role("button", name="Test render").click()
    page.wait_for_url("**/r/**")
    assert wait_final(page) == "done", page.locator("#fail-message").text_content()
    values = [v["value"] for v in seen(page)]
    assert values == sorted(values) and values[-1] == 100 and len({v for v in values if 0 < v < 100}) >= 2, values
    played = play_muted(page, "#player")
    assert played["readyState"] >= 2 and played["currentTime"] > played["before"]["currentTime"] + 0.3, played

    page.get_by_role("link", name="Back to the studio for this template").click()
    page.wait_for_url("**/studio/**")
    assert int(page.locator("#stat-renders").inner_text()) == renders_before + 1
