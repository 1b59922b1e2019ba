"""An in-memory channel layer that a worker thread may publish to.

Channels' InMemoryChannelLayer keeps asyncio queues bound to the event loop of the consumer that waits on
them. The embedded worker publishes from its own thread (through async_to_sync, i.e. another loop), and
waking a waiter from a foreign loop is not thread-safe: the consumer may not see the message. Here each
send is handed to the loop that receives on that channel.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._receiver_loops: dict[str, asyncio.AbstractEventLoop] = {}

    async def receive(self, channel: str) -> Any:
        self._receiver_loops[channel] = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel: str, message: dict) -> None:
        loop = self._receiver_loops.get(channel)
        if loop is None or loop is asyncio.get_running_loop() or loop.is_closed():
            await super().send(channel, message)
            return
        future = asyncio.run_coroutine_threadsafe(super().send(channel, message), loop)
        await asyncio.wrap_future(future)

    def _remove_from_groups(self, channel: str) -> None:
        self._receiver_loops.pop(channel, None)
        super()._remove_from_groups(channel)
