"""Page weight (bytes on the wire, from Chromium's own network events) and time to interactive (the
Navigation Timing API), with the CPU slowed 4x through CDP to stand in for a cheap phone."""

from __future__ import annotations

import statistics
from typing import Any

CPU_SLOWDOWN = 4


def measure(context: Any, path: str, runs: int = 3) -> dict[str, Any]:
    """Load `path` `runs` times with the cache off; medians of the timings, bytes of the last load."""
    loads = [_load_once(context, path) for _ in range(runs)]
    last = loads[-1]
    return {
        **{k: v for k, v in last.items() if not k.endswith("_ms")},
        **{k: round(statistics.median(load[k] for load in loads)) for k in last if k.endswith("_ms")},
    }


def _load_once(context: Any, path: str) -> dict[str, Any]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    kinds: dict[str, str] = {}
    sizes: dict[str, int] = {}  # whole responses, headers included
    partial: dict[str, int] = {}  # bodies cut short (a video player stops reading once it has enough)

    def received(e: dict) -> None:
        partial[e["requestId"]] = partial.get(e["requestId"], 0) + int(e.get("encodedDataLength", 0))

    def responded(e: dict) -> None:
        if not e["response"]["url"].startswith("data:"):  # the player's own icons: not from the network
            kinds[e["requestId"]] = e["type"]

    cdp.on("Network.responseReceived", responded)
    cdp.on("Network.dataReceived", received)
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    try:
        page.goto(path, wait_until="load")
        page.wait_for_load_state("networkidle")
        timing = page.evaluate(
            """() => { const n = performance.getEntriesByType('navigation')[0];
                       return {ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"""
        )
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        page.close()
    for request_id, size in partial.items():
        sizes.setdefault(request_id, size)
    sizes = {request_id: size for request_id, size in sizes.items() if request_id in kinds}
    by_kind: dict[str, int] = {}
    for request_id, size in sizes.items():
        kind = kinds[request_id]
        by_kind[kind] = by_kind.get(kind, 0) + size
    media = by_kind.get("Media", 0)
    return {
        "bytes": sum(sizes.values()) - media,
        "media_bytes": media,
        "script_bytes": by_kind.get("Script", 0),
        "requests": len(sizes),
        "by_kind": by_kind,
        "ttfb_ms": timing["ttfb"],
        "dcl_ms": timing["dcl"],
        "load_ms": timing["load"],
    }
