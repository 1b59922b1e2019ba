"""The personalise page checks a selfie in the browser before sending it, and takes one with the camera."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def photos(astronaut_bgr: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("prechecks")
    images = {
        "good": astronaut_bgr,
        "tiny": cv2.resize(astronaut_bgr, (150, 150), interpolation=cv2.INTER_AREA),
        "dark": (astronaut_bgr * 0.15).astype(np.uint8),
        "blurry": cv2.GaussianBlur(astronaut_bgr, (0, 0), 4),
    }
    paths = {}
    for name, image in images.items():
        paths[name] = folder / f"{name}.jpg"
        cv2.imwrite(str(paths[name]), image)
    paths["not-a-photo"] = folder / "notes.jpg"
    paths["not-a-photo"].write_text("these are not pixels")
    return paths


def open_form(page) -> None:
    page.goto("/")
    page.locator(".card a").first.click()
    page.wait_for_url("**/t/**")


def choose(page, path: Path) -> tuple[str, str]:
    page.set_input_files("input[name=selfie]", str(path))
    page.wait_for_function("document.getElementById('selfie-tools').dataset.checked !== 'pending'")
    verdict = page.evaluate("document.getElementById('selfie-tools').dataset.checked")
    return verdict, page.locator("#selfie-check").inner_text()


def test_precheck_says_what_to_fix(phone, photos: dict[str, Path]) -> None:
    open_form(phone)
    assert "Up to 15.0\xa0MB" in phone.locator("#selfie_limits").inner_text()

    verdict, text = choose(phone, photos["good"])
    assert verdict == "ok" and text.startswith("Looks good"), text
    assert phone.locator("#selfie-img").is_visible()

    verdict, text = choose(phone, photos["dark"])
    assert verdict == "warn" and "too dark" in text, text
    verdict, text = choose(phone, photos["blurry"])
    assert verdict == "warn" and "blurry" in text, text

    verdict, text = choose(phone, photos["not-a-photo"])
    assert verdict == "bad" and "could not read this file as a photo" in text, text
    verdict, text = choose(phone, photos["tiny"])
    assert verdict == "bad" and "too small (150×150 pixels)" in text, text

    # A photo that cannot work is not sent: the browser's own validation stops the form.
    phone.fill("input[name=name]", "Asha")
    assert phone.locator("#name-count").inner_text() == "4 of 40 characters"
    phone.check("input[name=consent]")
    phone.get_by_role("button", name="Make my ad").click()
    phone.wait_for_timeout(500)
    assert "/t/" in phone.url
    assert phone.evaluate("document.querySelector('input[name=selfie]').validationMessage").startswith(
        "This photo is too small"
    )


def test_camera_snapshot_becomes_the_upload(playwright, live_site) -> None:
    """Chromium's fake camera stands in for a phone's front camera."""
    fake_camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)
    try:
        context = browser.new_context(base_url=live_site.url, viewport={"width": 390, "height": 844},
                                      is_mobile=True, has_touch=True, permissions=["camera"])
        page = context.new_page()
        open_form(page)
        page.get_by_role("button", name="Take a selfie with the camera").click()
        page.wait_for_function("document.getElementById('camera-video').videoWidth > 0")
        assert page.locator(".guide ellipse").is_visible()
        assert page.evaluate("document.activeElement.id") == "camera-snap"
        page.get_by_role("button", name="Take photo").click()
        page.wait_for_function("document.querySelector('input[name=selfie]').files.length === 1")
        taken = page.evaluate("""() => { const f = document.querySelector('input[name=selfie]').files[0];
                                         return {name: f.name, type: f.type, size: f.size}; }""")
        assert taken["type"] == "image/jpeg" and taken["size"] > 5000, taken
        page.wait_for_function("document.getElementById('selfie-tools').dataset.checked !== 'pending'")
        assert page.locator("#selfie-img").is_visible()
        assert page.locator("#camera").is_hidden()
        assert page.evaluate("(document.getElementById('camera-video').srcObject || {getTracks: () => []})"
                             ".getTracks().every(t => t.readyState === 'ended')")
    finally:
        browser.close()


FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {id: e.id || e.name || e.textContent.trim(), outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
          label: e.labels && e.labels[0] ? e.labels[0].textContent : ""};
}"""


def test_form_works_from_the_keyboard_with_visible_focus(desktop, photos: dict[str, Path]) -> None:
    open_form(desktop)
    desktop.set_input_files("input[name=selfie]", str(photos["good"]))
    desktop.wait_for_function("document.getElementById('selfie-tools').dataset.checked === 'ok'")
    desktop.focus("input[name=selfie]")
    order = []
    for _ in range(4):
        desktop.keyboard.press("Tab")
        order.append(desktop.evaluate(FOCUSED))
    assert [o["id"] for o in order] == ["camera-open", "id_name", "id_consent", "Make my ad"], order
    assert all(o["outline"] == "solid" and o["width"] >= 2 for o in order), order  # focus is visible
    assert order[1]["label"] == "Your name" and order[2]["label"].startswith("This is my face")
    desktop.keyboard.press("Shift+Tab")
    desktop.keyboard.press("Shift+Tab")
    desktop.keyboard.type("Asha")
    desktop.keyboard.press("Tab")
    desktop.keyboard.press("Space")
    assert desktop.is_checked("input[name=consent]")
    desktop.keyboard.press("Tab")
    desktop.keyboard.press("Enter")
    desktop.wait_for_url("**/r/**")
    assert desktop.locator("#render").count() == 1
