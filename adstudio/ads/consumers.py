"""A thin consumer: the database is the truth, the channel layer only says "look again, it changed"."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from adstudio.ads.models import Render


class RenderConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        render = await database_sync_to_async(Render.objects.filter(public_id=public_id).first)()
        session = self.scope.get("session")
        user = self.scope.get("user")
        allowed = render is not None and (
            render.owned_by(session.session_key if session else None) or getattr(user, "is_staff", False)
        )
        if not allowed:
            await self.close(code=4403)
            return
        self.group = render.group_name
        self.render_pk = render.pk
        # Join first, then read: an update between the two arrives twice rather than never.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        current = await database_sync_to_async(Render.objects.get)(pk=self.render_pk)
        await self.send_json(current.payload())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The only thing a client may ask is the current state (after a reconnect, say).
        current = await database_sync_to_async(Render.objects.get)(pk=self.render_pk)
        await self.send_json(current.payload())

    async def render_update(self, event: dict[str, Any]) -> None:
        await self.send_json(event["state"])
