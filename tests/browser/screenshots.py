"""Screenshots of every page at phone and desktop widths, and the page-weight table, from a live site.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots] [--benchmarks docs/BENCHMARKS.md]

Starts its own server (like the browser tests), makes two real ads, and saves small palette PNGs.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from tests.browser.fan import start_ad, wait_final
from tests.browser.server import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    ROOT,
    LiveServer,
)
from tests.browser.weigh import CPU_SLOWDOWN, measure

SIZES = {"phone": PHONE, "desktop": DESKTOP}
MAX_PNG_BYTES = 150_000
HEADING = "## Page weight and time to interactive"
# Far enough into a render that the bar, the stage and the time left all show (or already over).
INTRO = (
    "Measured by `python -m tests.browser.screenshots`: Chromium at 390x844 (phone), cache off, CPU slowed "
    "{slowdown}x via CDP `Emulation.setCPUThrottlingRate`, against the local daphne server (no network "
    "latency, so the times are the page's own parse, script and layout cost, plus the server's). Bytes are "
    "Chromium's `encodedDataLength` per response, headers included. Video is counted apart: the players use "
    "`preload=\"metadata\"`, and before the fan presses play Chromium's network events showed only an "
    "aborted metadata request with no body bytes counted (the Video column). Times are the median of 3 "
    "loads, from Navigation Timing (`responseStart`, `domContentLoadedEventEnd`, `loadEventEnd`, from the "
    "start of the navigation). The machine: {cores} cores shared with other test suites (1-minute load "
    "average {load:.0f} when measured), so the times are pessimistic and vary by a few hundred ms between "
    "runs; the bytes do not vary. The admin studio carries Django admin's own CSS and JS."
)
MID_RENDER = """(document.getElementById('bar').value >= 20 && document.getElementById('eta').textContent)
    || ['done', 'failed'].includes(document.getElementById('render').dataset.state)"""


def save_png(png: bytes, out: Path) -> int:
    """A palette PNG under MAX_PNG_BYTES: fewer colours until it fits."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64, 32):
        buffer = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= MAX_PNG_BYTES:
            break
    out.write_bytes(buffer.getvalue())
    return buffer.tell()


def selfie(folder: Path) -> Path:
    import cv2
    from skimage import data

    path = folder / "astronaut.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def login(page: Any) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", ADMIN_USER)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def shoot(page: Any, out: Path, name: str, size: str, shots: dict[str, int]) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    file = out / f"{name}-{size}.png"
    shots[file.name] = save_png(page.screenshot(animations="disabled"), file)


def tour(browser: Any, site: LiveServer, out: Path, photo: Path) -> tuple[dict[str, int], dict[str, dict]]:
    shots: dict[str, int] = {}
    fan_state: dict | None = None
    urls: dict[str, str] = {}
    for size, options in SIZES.items():
        context = browser.new_context(base_url=site.url, **options)
        page = context.new_page()
        page.goto("/")
        shoot(page, out, "catalog", size, shots)
        page.locator(".card a").first.click()
        page.wait_for_url("**/t/**")
        page.set_input_files("input[name=selfie]", str(photo))
        page.fill("input[name=name]", "Asha")
        page.wait_for_function("document.getElementById('selfie-tools').dataset.checked !== 'pending'")
        page.locator("#selfie-preview").scroll_into_view_if_needed()
        file = out / f"personalise-{size}.png"
        shots[file.name] = save_png(page.screenshot(animations="disabled"), file)
        urls["personalise"] = page.url
        start_ad(page, photo)
        page.wait_for_function(MID_RENDER, timeout=120_000)
        shoot(page, out, "render-progress", size, shots)
        state = wait_final(page)
        assert state == "done", (state, page.locator("#fail-message").text_content(), site.log_tail(12000))
        page.wait_for_function("document.getElementById('player').readyState >= 2")
        shoot(page, out, "render-done", size, shots)
        urls["render"] = page.url
        urls["share"] = page.locator("#share-link").input_value()
        fan_state = context.storage_state()
        friend = browser.new_context(base_url=site.url, **options)
        share = friend.new_page()
        share.goto(urls["share"])
        share.wait_for_function("document.querySelector('video').readyState >= 2")
        shoot(share, out, "share", size, shots)
        friend.close()
        admin = browser.new_context(base_url=site.url, **options)
        studio = admin.new_page()
        login(studio)
        studio.goto(urls["render"].split("/r/")[0] + "/studio/" + urls["personalise"].rstrip("/").split("/")[-1] + "/")
        shoot(studio, out, "studio", size, shots)
        urls["studio"] = studio.url
        admin_state = admin.storage_state()
        admin.close()
        context.close()

    weights: dict[str, dict] = {}
    phone = SIZES["phone"]
    for name, state, path in [
        ("catalog", None, "/"),
        ("personalise", None, urls["personalise"]),
        ("render (done)", fan_state, urls["render"]),
        ("share", None, urls["share"]),
        ("studio (admin)", admin_state, urls["studio"]),
    ]:
        context = browser.new_context(base_url=site.url, storage_state=state, **phone)
        weights[name] = measure(context, path)
        context.close()
    return shots, weights


def table(weights: dict[str, dict]) -> str:
    rows = [
        HEADING,
        "",
        INTRO.format(slowdown=CPU_SLOWDOWN, cores=os.cpu_count(), load=os.getloadavg()[0]),
        "",
        "| Page | Requests | Sent (no video) | of which JS | Video | First byte | DOMContentLoaded | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, w in weights.items():
        rows.append(
            f"| {name} | {w['requests']} | {w['bytes'] / 1024:.1f} KB | {w['script_bytes'] / 1024:.1f} KB | "
            f"{w['media_bytes'] / 1024:.0f} KB | {w['ttfb_ms']} ms | {w['dcl_ms']} ms | {w['load_ms']} ms |"
        )
    rows += ["", "No framework and no build step: the fan's pages load one stylesheet and at most one small "
             "script each (`static/js/`).", ""]
    return "\n".join(rows)


def write_section(path: Path, section: str) -> None:
    """Replace this section in the file (other sections belong to others), or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="adstudio-shots-") as tmp:
        site = LiveServer(Path(tmp) / "site")
        site.prepare()
        site.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                shots, weights = tour(browser, site, args.out, selfie(Path(tmp)))
                browser.close()
        finally:
            site.stop()
    for name, size in sorted(shots.items()):
        print(f"{args.out / name}: {size / 1024:.0f} KB")
    section = table(weights)
    write_section(args.benchmarks, section)
    print(section)


if __name__ == "__main__":
    main()
