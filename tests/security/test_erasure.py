"""Erasure: once a render ends (done, failed or cancelled) nothing of the fan's selfie is left anywhere.

Real renders through jobs.run_render, after a real upload through the form (spooled to a temp file).
Before and after, every file under MEDIA_ROOT, RENDER_WORK_DIR and the temp dir is listed; after, every
file is searched for the selfie's bytes and its SHA-256, and every database row for its name and hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core import serializers
from django.test import Client
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.renders import jobs
from adstudio.renders.models import Render
from tests.security.conftest import image_bytes, random_ip
from tests.web.factories import analysed_template

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-cache")  # the template is analysed once for the module


@pytest.fixture
def studio(settings, tmp_path: Path, engine_cache: Path, monkeypatch: pytest.MonkeyPatch, talking_clip: Path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ENGINE_CACHE_DIR = engine_cache
    settings.RENDER_WORK_DIR = tmp_path / "work"  # outside MEDIA_ROOT here, so both are walked
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload is spooled to a temp file, as big phone photos are
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    template = analysed_template(talking_clip, "Car phone")
    return template, [settings.MEDIA_ROOT, settings.RENDER_WORK_DIR, temp, engine_cache]


def files_under(roots: list[Path]) -> dict[Path, tuple[int, int]]:
    found = {}
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                stat = path.stat()
                found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def upload(template: Template, selfie: bytes) -> Render:
    client = Client(REMOTE_ADDR=random_ip())
    response = client.post(
        reverse("ads:personalise", args=[template.slug]),
        {"name": "Asha", "consent": "on", "selfie": _named(selfie)},
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    render = Render.objects.get()
    claimed = Render.objects.claim(render.pk, "test")
    assert claimed is not None
    return claimed


def _named(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("my selfie.jpg", data, content_type="image/jpeg")


def has_numbers(value: object) -> bool:
    """A list of numbers anywhere inside a JSON value: what landmarks, boxes and embeddings look like."""
    if isinstance(value, dict):
        return any(has_numbers(v) for v in value.values())
    if isinstance(value, list):
        return any(isinstance(v, int | float) for v in value) or any(has_numbers(v) for v in value)
    return False


def database_text() -> str:
    return "\n".join(serializers.serialize("json", model.objects.all()) for model in apps.get_models())


def assert_nothing_of_the_selfie_left(render: Render, traces: list[bytes], names: list[str], roots, before) -> None:
    after = files_under(roots)
    new = sorted(str(p) for p, stat in after.items() if before.get(p) != stat)
    expected = [str(Path(render.video.path)), str(Path(render.poster.path))] if render.video else []
    assert new == sorted(expected), new
    for path in after:
        data = path.read_bytes()
        for trace in traces:
            assert trace not in data, f"{path} holds a trace of the selfie"
    assert list(Path(roots[0], "selfies").glob("*")) == []
    row = Render.objects.get(pk=render.pk)
    assert row.selfie.name == ""
    fields = json.loads(serializers.serialize("json", [row]))[0]["fields"]
    assert not [k for k, v in fields.items() if has_numbers(v)], fields  # no landmarks, boxes or embeddings
    db = database_text()
    for needle in names:
        assert needle not in db, needle


def traces_of(render: Render, original: bytes) -> tuple[list[bytes], list[str]]:
    stored = Path(render.selfie.path).read_bytes()
    hashes = [hashlib.sha256(b).hexdigest() for b in (original, stored)]
    # Bytes from the middle of each (past any shared JPEG header), and the hex digests, raw and as text.
    traces = [original[len(original) // 2:][:4096], stored[len(stored) // 2:][:4096]]
    traces += [h.encode() for h in hashes] + [bytes.fromhex(h) for h in hashes]
    names = [Path(render.selfie.name).name, Path(render.selfie.name).stem, *hashes]
    return traces, names


def test_done_render_leaves_only_the_ad(studio, astronaut_jpg: Path) -> None:
    template, roots = studio
    original = astronaut_jpg.read_bytes()
    before = files_under(roots)
    render = upload(template, original)
    traces, names = traces_of(render, original)
    render = jobs.run_render(render)
    assert render.state == Render.State.DONE, render.error
    assert_nothing_of_the_selfie_left(render, traces, names, roots, before)


def test_failed_render_leaves_nothing(studio, astronaut_jpg: Path) -> None:
    template, roots = studio
    original = astronaut_jpg.read_bytes()
    before = files_under(roots)
    render = upload(template, original)
    traces, names = traces_of(render, original)
    # The ad is withdrawn (re-analysed) between the upload and the render: a fan-facing failure.
    Template.objects.filter(pk=template.pk).update(analysis_status=Template.Analysis.PENDING)
    render = jobs.run_render(render)
    assert render.state == Render.State.FAILED and render.error_code == "template_not_ready", render.error
    assert_nothing_of_the_selfie_left(render, traces, names, roots, before)


def test_refused_selfie_leaves_nothing(studio) -> None:
    """A selfie the form's face screen refuses (a valid photo with no face) is kept nowhere: not in media,
    not as the screen's temporary file, not in the database."""
    template, roots = studio
    original = image_bytes("JPEG", (640, 480), quality=90)
    before = files_under(roots)
    response = Client(REMOTE_ADDR=random_ip()).post(
        reverse("ads:personalise", args=[template.slug]),
        {"name": "Asha", "consent": "on", "selfie": _named(original)},
    )
    assert response.status_code == 200 and "could not find a face" in response.content.decode()
    assert Render.objects.count() == 0
    after = files_under(roots)
    assert sorted(str(p) for p, stat in after.items() if before.get(p) != stat) == []
    trace = original[len(original) // 2:][:4096]
    assert not [p for p in after if trace in p.read_bytes()]
    assert hashlib.sha256(original).hexdigest() not in database_text()


def test_cancelled_render_leaves_nothing(studio, astronaut_jpg: Path) -> None:
    template, roots = studio
    original = astronaut_jpg.read_bytes()
    before = files_under(roots)
    render = upload(template, original)
    traces, names = traces_of(render, original)
    seen: list[float] = []

    def fan_cancels_midway(stage: str, fraction: float) -> None:
        seen.append(fraction)
        if stage == "swap" and fraction > 0.3:
            Render.objects.get(pk=render.pk).cancel()  # what the fan's cancel does to the row

    render = jobs.run_render(render, extra_progress=fan_cancels_midway)
    assert render.state == Render.State.CANCELLED, (render.state, render.error)
    assert max(seen) < 0.97  # it stopped in the middle of the swap, not after it
    assert_nothing_of_the_selfie_left(render, traces, names, roots, before)
