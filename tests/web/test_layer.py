"""The embedded channel layer delivers a message sent from a worker thread to a consumer's loop."""

from __future__ import annotations

import asyncio
import threading
import time

from asgiref.sync import async_to_sync

from adstudio.layers import ThreadSafeInMemoryChannelLayer


def test_send_from_another_thread_wakes_the_receiver() -> None:
    layer = ThreadSafeInMemoryChannelLayer()

    async def main() -> tuple[dict, float]:
        channel = await layer.new_channel()
        await layer.group_add("g", channel)

        def worker() -> None:
            time.sleep(0.2)  # the receiver is already waiting on its own loop
            async_to_sync(layer.group_send)("g", {"type": "x", "n": 1})

        threading.Thread(target=worker).start()
        start = time.monotonic()
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        return message, time.monotonic() - start

    message, waited = asyncio.run(main())
    assert message["n"] == 1
    assert waited < 2.0
