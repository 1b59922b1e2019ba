"""The WebSocket consumer: current state on connect, then every update; strangers are refused."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from adstudio.renders.models import Render
from adstudio.routing import build_application
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db(transaction=True)


def session_key() -> str:
    store = SessionStore()
    store.create()
    return store.session_key


def communicator(render: Render, key: str, origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"cookie", f"sessionid={key}".encode())]
    return WebsocketCommunicator(build_application(), f"/ws/renders/{render.public_id}/", headers=headers)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_owner_gets_state_on_connect_then_updates() -> None:
    key = session_key()
    render = make_render(make_template(), session=key)

    async def scenario() -> list[dict]:
        ws = communicator(render, key)
        connected, _ = await ws.connect()
        assert connected
        first = await ws.receive_json_from(timeout=5)
        claimed = await sync_to_async(Render.objects.claim)(render.pk, "w")
        await sync_to_async(claimed.record_progress)("swap", 0.5)
        layer = get_channel_layer()
        await layer.group_send(claimed.group_name, {"type": "render.update", "state": claimed.payload()})
        second = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"want": "state"})
        third = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return [first, second, third]

    first, second, third = async_to_sync(scenario)()
    assert first["state"] == "queued" and first["progress"] == 0
    assert (second["state"], second["stage"], second["progress"]) == ("running", "swap", 0.5)
    assert third["stage"] == "swap"


@pytest.mark.parametrize("who", ["stranger", "bad_origin"])
def test_others_are_refused(who: str) -> None:
    owner = session_key()
    render = make_render(make_template(), session=owner)
    stranger = session_key()

    async def scenario() -> bool:
        if who == "stranger":
            ws = communicator(render, stranger)
        else:
            ws = communicator(render, owner, origin=b"http://evil.example")
        connected, _ = await ws.connect()
        await ws.disconnect()
        return connected

    assert async_to_sync(scenario)() is False
