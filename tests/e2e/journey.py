"""One fan's journey, shared by the embedded-mode and the services-mode end-to-end tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.catalog.services import request_analysis
from adstudio.renders.models import Render
from adstudio.routing import build_application


@dataclass
class Journey:
    render: Render
    messages: list[dict]
    video: Path


def publish_through_worker(clip: Path, title: str) -> Template:
    """Upload a clip as an admin would; the worker analyses it; then publish it."""
    from adstudio.catalog.management.commands.add_template import add_template

    template = add_template(clip, title)
    request_analysis(template)
    template = wait_for_analysis(template)
    assert template.is_ready, template.analysis_error
    template.published = True
    template.save()
    return template


def wait_for_analysis(template: Template, timeout: float = 240) -> Template:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        template.refresh_from_db()
        if template.analysis_status in (Template.Analysis.READY, Template.Analysis.FAILED):
            return template
        time.sleep(0.3)
    raise AssertionError(f"analysis did not finish in {timeout}s: {template.analysis_status}")


def make_ad(client: Client, template: Template, selfie: Path, out_dir: Path, timeout: float = 300) -> Journey:
    with selfie.open("rb") as fh:
        response = client.post(
            reverse("ads:personalise", args=[template.slug]),
            {"selfie": fh, "name": "Asha", "consent": "on"},
        )
    assert response.status_code == 302, response.content[:2000]
    render = Render.objects.get(public_id=response["Location"].rstrip("/").split("/")[-1])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    messages = async_to_sync(_watch)(render, cookie, timeout)
    render.refresh_from_db()
    assert render.state == Render.State.DONE, (render.message, render.error)

    page = client.get(reverse("ads:share", args=[render.share_token]))
    assert page.status_code == 200
    video = client.get(reverse("ads:share_video", args=[render.share_token]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    out = out_dir / "shared.mp4"
    out.write_bytes(b"".join(video.streaming_content))
    return Journey(render, messages, out)


async def _watch(render: Render, cookie: bytes, timeout: float) -> list[dict]:
    """Collect WebSocket messages until a final state; reconnect once midway, as a reloading page would."""
    headers = [(b"origin", b"http://testserver"), (b"cookie", cookie)]
    path = f"/ws/renders/{render.public_id}/"
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    reconnected = False
    ws = WebsocketCommunicator(build_application(), path, headers=headers)
    connected, _ = await ws.connect()
    assert connected
    try:
        while time.monotonic() < deadline:
            try:
                message = await ws.receive_json_from(timeout=5)
            except TimeoutError:
                continue
            messages.append(message)
            if message["state"] in ("done", "failed", "cancelled"):
                return messages
            if not reconnected and message["state"] == "running" and message["progress"] > 0.3:
                await ws.disconnect()
                ws = WebsocketCommunicator(build_application(), path, headers=headers)
                connected, _ = await ws.connect()
                assert connected
                reconnected = True
        raise AssertionError(f"no final state within {timeout}s; got {messages[-3:]}")
    finally:
        await ws.disconnect()


def assert_progress_in_order(messages: list[dict]) -> None:
    assert messages[-1]["state"] == "done"
    values = [m["progress"] for m in messages]
    assert values == sorted(values), values
    stages = [m["stage"] for m in messages if m["state"] == "running"]
    assert "swap" in stages, stages
    assert len([m for m in messages if m["state"] == "running"]) >= 3, messages


def assert_face_is_the_fans(video: Path, template_clip: Path, selfie: Path, samples: int = 8) -> None:
    """On most sampled frames the output face is nearer (dlib) to the selfie than to the original face."""
    from swapengine.faces.detect import load_image
    from swapengine.faces.identity import FaceIdentity
    from swapengine.media import FrameReader, probe

    ident = FaceIdentity()
    selfie_vec = ident.embedding(load_image(selfie))
    assert selfie_vec is not None
    out_info, src_info = probe(video), probe(template_clip)
    assert out_info.frame_count == src_info.frame_count
    assert abs(out_info.duration - src_info.duration) < 0.1
    picks = set(np.linspace(5, src_info.frame_count - 5, samples).astype(int).tolist())
    wins = total = 0
    with FrameReader(video, out_info) as out_frames, FrameReader(template_clip, src_info) as src_frames:
        for i, (out, src) in enumerate(zip(out_frames, src_frames, strict=True)):
            if i not in picks:
                continue
            a, b = ident.embedding(out), ident.embedding(src)
            if a is None or b is None:
                continue
            total += 1
            wins += ident.distance(a, selfie_vec) < ident.distance(a, b)
    assert total >= samples // 2, f"faces found on only {total} of {samples} sampled frames"
    assert wins > total / 2, f"closer to the selfie on only {wins}/{total} frames"
