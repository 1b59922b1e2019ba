"""The fan's first two pages stay light on a slow phone: few requests, small scripts, no framework."""

from __future__ import annotations

import pytest

from tests.browser.server import PHONE
from tests.browser.weigh import measure

pytestmark = pytest.mark.browser

# Budgets with room to grow, but an order of magnitude under a framework bundle.
MAX_BYTES = 60 * 1024  # everything but video, headers included
MAX_SCRIPT_BYTES = 16 * 1024
MAX_REQUESTS = 6
MAX_DCL_MS = 6000  # with the CPU slowed 4x, on a shared CI machine: catches a blocking script, not jitter


@pytest.mark.parametrize("path", ["/", "/t/demo-the-car-phone-call/"])
def test_page_weight_and_time_to_interactive(browser, live_site, path: str) -> None:
    context = browser.new_context(base_url=live_site.url, **PHONE)
    try:
        weight = measure(context, path, runs=1)
    finally:
        context.close()
    assert weight["bytes"] <= MAX_BYTES, weight
    assert weight["script_bytes"] <= MAX_SCRIPT_BYTES, weight
    assert weight["requests"] <= MAX_REQUESTS, weight
    assert set(weight["by_kind"]) <= {"Document", "Stylesheet", "Script", "Image"}, weight
    assert 0 < weight["dcl_ms"] <= MAX_DCL_MS, weight
