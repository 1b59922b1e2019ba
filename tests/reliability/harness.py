"""What the reliability tests do as fans, and what they check afterwards."""

from __future__ import annotations

import time
from pathlib import Path

from django.test import Client
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.renders.models import Render


def submit(template: Template, selfie: Path, name: str = "Asha") -> tuple[Render, Client]:
    """One fan (a fresh session) posts the form; returns the queued render and the fan's client."""
    client = Client()
    with selfie.open("rb") as fh:
        response = client.post(
            reverse("ads:personalise", args=[template.slug]), {"selfie": fh, "name": name, "consent": "on"}
        )
    assert response.status_code == 302, response.content[:2000]
    return Render.objects.get(public_id=response["Location"].rstrip("/").split("/")[-1]), client


def wait_until_final(pks: list[int], timeout: float) -> list[Render]:
    deadline = time.monotonic() + timeout
    while True:
        renders = list(Render.objects.filter(pk__in=pks).order_by("created_at", "pk"))
        if len(renders) == len(pks) and all(r.is_final for r in renders):
            return renders
        if time.monotonic() > deadline:
            states = [(r.pk, r.state, r.stage, round(r.progress, 2)) for r in renders]
            raise AssertionError(f"not all final after {timeout}s: {states}")
        time.sleep(0.2)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_one_complete_output(render: Render, media: Path) -> None:
    """Exactly the two files a done render owns, both complete: the MP4 plays to its end, the JPEG decodes."""
    import cv2

    from swapengine.media import probe

    folder = media / "renders" / render.public_id.hex
    assert files_under(folder) == ["ad.mp4", "poster.jpg"], files_under(folder)
    assert render.video.name == f"renders/{render.public_id.hex}/ad.mp4"
    info = probe(folder / "ad.mp4")
    assert info.frame_count == render.template.info["frame_count"], info
    assert cv2.imread(str(folder / "poster.jpg")) is not None


def assert_nothing_half_written(render: Render, media: Path) -> None:
    """A failed render leaves no output, no scratch folder and no selfie behind."""
    assert not render.video and not render.poster
    assert files_under(media / "renders") == []
    assert files_under(media / "work") == []
    assert not render.selfie and files_under(media / "selfies") == []
