"""A masked selfie posted through the personalise form ends in a failed render whose page shows the
screen's one line (the form itself checks the file, not the face: the face check runs in the render job,
before the swap starts)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from adstudio.renders import jobs
from adstudio.renders.models import Render
from evals.selfie_checkset import surgical_mask
from swapengine.faces.detect import FaceAnalyzer
from swapengine.faces.screening import ScreenMessage
from tests.web.factories import analysed_template

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.ENGINE_CACHE_DIR = tmp_path / "analysis"
    settings.RENDER_WORK_DIR = tmp_path / "work"
    return tmp_path


def masked_astronaut_jpeg(astronaut_bgr: np.ndarray) -> bytes:
    big = cv2.resize(astronaut_bgr, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    analyzer = FaceAnalyzer()
    try:
        landmarks = analyzer.detect_image(big)[0].landmarks
    finally:
        analyzer.close()
    ok, data = cv2.imencode(".jpg", surgical_mask(big, landmarks, (215, 185, 130), "web/mask"))
    assert ok
    return data.tobytes()


def test_masked_selfie_gets_the_mask_message(
    client, django_capture_on_commit_callbacks, talking_clip: Path, astronaut_bgr: np.ndarray
) -> None:
    template = analysed_template(talking_clip, "Masked fan")
    payload = {"name": "Asha", "consent": "on",
               "selfie": SimpleUploadedFile("me.jpg", masked_astronaut_jpeg(astronaut_bgr), content_type="image/jpeg")}
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("ads:personalise", args=[template.slug]), payload)
    render = Render.objects.get()
    assert response.status_code == 302
    claimed = Render.objects.claim(render.pk, "test")
    assert claimed is not None
    render = jobs.run_render(claimed)
    assert render.state == Render.State.FAILED and render.error_code == "face_covered"
    assert not render.video
    html = client.get(render.get_absolute_url()).content.decode()
    assert ScreenMessage.face_covered.split(" (")[0] in html
    assert "Try another selfie" in html
