"""The admin places a dialogue slot by dragging across the speech timeline."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_drag_on_the_timeline_fills_a_slot_row(admin_page) -> None:
    page = admin_page
    page.goto("/admin/catalog/template/")
    page.click("#result_list tbody tr a")  # the demo template
    page.wait_for_url("**/change/")
    timeline = page.locator("svg.speech-timeline")
    timeline.scroll_into_view_if_needed()
    duration = float(timeline.get_attribute("data-duration"))
    box = timeline.bounding_box()
    y = box["y"] + box["height"] / 3
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.40, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.50, y, steps=5)
    page.mouse.up()

    start = float(page.locator("#slots-group tr.form-row:not(.empty-form) input[name$='-start']").first.input_value())
    end = float(page.locator("#slots-group tr.form-row:not(.empty-form) input[name$='-end']").first.input_value())
    assert start == pytest.approx(duration * 0.25, abs=0.1)
    assert end == pytest.approx(duration * 0.50, abs=0.1)
    focused = page.evaluate("document.activeElement.name || ''")
    assert focused.endswith("-line"), focused
    assert "Slot placed at" in page.locator("#timeline-help").text_content()
