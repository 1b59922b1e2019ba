"""The celebrity's voice bank in the browser: create a bank with its licence, upload a recording, watch its
quality report appear (the embedded worker runs the engine's analysis), link the demo template, delete."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SPEECH = ("The quick brown fox jumps over the lazy dog. Happy Diwali to you and your family, from all of us. "
          "Please buy a bar of chocolate today, and share it with someone you love.")


@pytest.fixture
def speech_wav(tmp_path: Path) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng): no speech to upload")
    out = tmp_path / "asha-interview.wav"
    subprocess.run([espeak, "-w", str(out), SPEECH], check=True, capture_output=True, timeout=60)
    return out


def test_upload_a_recording_and_see_its_report(admin_page, speech_wav: Path, tmp_path: Path) -> None:
    page = admin_page
    page.goto("/admin/catalog/voicebank/")
    page.get_by_role("link", name="Open the voice studio").click()
    page.wait_for_url("**/studio-voices/")
    page.fill("#id_celebrity", "Asha Rao (browser)")
    page.fill("#id_licence", "Contract AR-2026-7: voice for Diwali ads, 2026.")
    page.get_by_role("button", name="Create the bank").click()
    page.wait_for_url("**/studio-voices/*/")
    assert "Voice bank for Asha Rao (browser) created" in page.locator(".messagelist").text_content()

    # A wrong file is refused with a reason, and nothing is stored.
    picture = tmp_path / "photo.wav"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    page.set_input_files("input[name=audio]", str(picture))
    page.get_by_role("button", name="Upload", exact=True).click()
    assert "This is a picture, not a recording" in page.get_by_role("alert").inner_text()
    assert page.locator("article.recording").count() == 0

    page.set_input_files("input[name=audio]", str(speech_wav))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_load_state()
    assert "Uploaded asha-interview.wav" in page.locator(".messagelist").text_content()
    recording = page.locator("article.recording").first
    assert recording.locator("h3").inner_text() == "asha-interview.wav"
    # The page polls while the worker analyses, then reloads with the report.
    page.wait_for_selector("article.recording[data-state=done]", timeout=120_000)
    recording = page.locator("article.recording").first
    report = recording.locator("table.report")
    for label in ("Length", "Speech", "Noise", "Reverb", "Clipping", "Loudness", "Phoneme coverage"):
        assert report.locator("th", has_text=label).count() == 1, label
    assert "of English speech sounds" in report.locator("tr[data-key=phone_coverage] td").inner_text()
    assert "s of speech" in recording.locator("ul.problems").inner_text()  # ten seconds is too little
    total = page.locator("#bank-total")
    assert total.locator("tr[data-key=recordings] td").inner_text() == "1"
    assert "s of usable speech" in page.locator("#bank-problems").inner_text()

    page.get_by_label("Demo: the car-phone call").check()
    page.get_by_role("button", name="Save the templates").click()
    page.wait_for_load_state()
    assert "1 template(s) now use Asha Rao (browser)'s voice bank" in page.locator(".messagelist").text_content()
    assert page.get_by_label("Demo: the car-phone call").is_checked()

    page.get_by_role("link", name="Delete this voice bank").click()
    assert "Demo: the car-phone call" in page.locator("#content-main").inner_text()
    page.get_by_role("button", name="Yes, delete it").click()
    page.wait_for_url("**/studio-voices/")
    assert "were deleted" in page.locator(".messagelist").text_content()
    assert page.get_by_role("link", name="Asha Rao (browser)").count() == 0
