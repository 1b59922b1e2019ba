"""A thin consumer: the database is the truth, the channel layer only says "look again, it changed"."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from adstudio.renders.models import Render


class RenderConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        session = self.scope.get("session")
        user = self.scope.get("user")
        # Join first, then read: an update between the two arrives twice rather than never. One database
        # trip for the check and the state: every trip queues on Channels' single sync thread.
        self.group = Render(public_id=public_id).group_name
        await self.channel_layer.group_add(self.group, self.channel_name)
        render = await database_sync_to_async(Render.objects.filter(public_id=public_id).first)()
        allowed = render is not None and (
            render.owned_by(session.session_key if session else None) or getattr(user, "is_staff", False)
        )
        if render is None or not allowed:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            del self.group
            await self.close(code=4403)
            return
        self.render_pk = render.pk
        await self.accept()
        await self.send_json(render.payload())

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels hops to its single shared sync thread (close_old_connections) before every message.
        # With 200 open pages those hops queued the WebSocket handshakes past daphne's connect timeout
        # in the load test. A progress relay and a disconnect touch no database, and a connect's own
        # database trip closes stale connections itself (database_sync_to_async): none needs the hop.
        kind = message.get("type")
        if kind == "render.update":
            await self.render_update(message)
        elif kind == "websocket.connect":
            await self.websocket_connect(message)
        elif kind == "websocket.disconnect":
            await self.websocket_disconnect(message)
        else:
            await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The only thing a client may ask is the current state (after a reconnect, say).
        current = await database_sync_to_async(Render.objects.get)(pk=self.render_pk)
        await self.send_json(current.payload())

    async def render_update(self, event: dict[str, Any]) -> None:
        await self.send_json(event["state"])

