"""The admin studio: staff only, picks the fan's face, counts renders and their failures, starts test renders."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.ENGINE_CACHE_DIR = tmp_path / "analysis"
    return tmp_path


def two_tracks():
    template = make_template()
    template.tracks = [
        {"id": 0, "start": 0, "end": 49, "frames": 50, "thumbnail": "track_0.jpg"},
        {"id": 3, "start": 20, "end": 99, "frames": 80, "thumbnail": "track_3.jpg"},
    ]
    template.save()
    return template


def test_strangers_are_sent_to_the_login(client) -> None:
    template = make_template()
    for name in ("ads:studio", "ads:studio_track", "ads:studio_test"):
        response = client.post(reverse(name, args=[template.slug])) if "_" in name else client.get(
            reverse(name, args=[template.slug]))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], name


def test_change_page_links_to_the_studio(admin_client) -> None:
    template = make_template()
    page = admin_client.get(reverse("admin:catalog_template_change", args=[template.pk]))
    assert reverse("ads:studio", args=[template.slug]) in page.content.decode()


def test_tracks_are_shown_and_one_is_chosen(admin_client) -> None:
    template = two_tracks()
    page = admin_client.get(reverse("ads:studio", args=[template.slug])).content.decode()
    assert "frames 20–99 (0.8–4.0 s)" in page
    assert reverse("ads:track_thumbnail", args=[template.slug, 3]) in page

    response = admin_client.post(reverse("ads:studio_track", args=[template.slug]), {"track": "3"})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.fan_track == 3

    admin_client.post(reverse("ads:studio_track", args=[template.slug]), {"track": "7"})
    template.refresh_from_db()
    assert template.fan_track == 3  # an unknown track changes nothing


def test_stats_count_outcomes_failure_reasons_and_views() -> None:
    template = make_template()
    other = make_template("Another ad")
    make_render(template, state=Render.State.DONE, views=5)
    make_render(template, state=Render.State.DONE, views=0)
    make_render(template, state=Render.State.FAILED, error_code="no_face")
    make_render(template, state=Render.State.FAILED, error_code="no_face")
    make_render(template, state=Render.State.FAILED, error_code="too_dark")
    make_render(template, state=Render.State.RUNNING)
    make_render(other, state=Render.State.FAILED, error_code="internal", views=9)

    stats = Render.objects.filter(template=template).stats()
    assert stats["renders"] == 6
    assert stats["by_state"] == {"done": 2, "failed": 3, "running": 1}
    assert stats["active"] == 1
    assert stats["failures"] == [{"error_code": "no_face", "count": 2}, {"error_code": "too_dark", "count": 1}]
    assert stats["views"] == 5 and stats["viewed_ads"] == 1


def test_test_render_is_a_normal_render_owned_by_the_admin(admin_client, django_capture_on_commit_callbacks) -> None:
    from adstudio.studio import samples

    template = make_template()
    page = admin_client.get(reverse("ads:studio", args=[template.slug])).content.decode()
    offered = samples.available()
    assert offered and offered[0].key == "astronaut"  # the astronaut always has a usable face
    assert reverse("ads:studio_sample", args=["astronaut"]) in page
    assert admin_client.get(reverse("ads:studio_sample", args=["astronaut"])).status_code == 200

    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(reverse("ads:studio_test", args=[template.slug]), {"sample": "astronaut"})
    render = Render.objects.get()
    assert response.status_code == 302 and response["Location"] == render.get_absolute_url()
    assert render.owned_by(admin_client.session.session_key)
    assert render.selfie.read() == samples.get("astronaut").path.read_bytes()
    assert render.consent_at is not None and len(queued) == 1
    assert admin_client.get(render.get_absolute_url()).status_code == 200

    response = admin_client.post(reverse("ads:studio_test", args=[template.slug]), {"sample": "../../etc/passwd"})
    assert Render.objects.count() == 1


def test_latest_renders_say_how_their_lines_were_made(admin_client) -> None:
    """A fallback (no phoneme timings: the mouth follows loudness) is shown to the admin, not only logged."""
    template = make_template()
    render = make_render(template)
    note = "Slot 1.20-2.40 s: said by espeak-ng (hi); lips following the line's loudness (fallback: no phoneme " \
           "timings or no lip model)."
    assert render.finish("renders/x/ad.mp4", "renders/x/poster.jpg", [note])
    render.refresh_from_db()
    assert render.notes == [note]
    page = admin_client.get(reverse("ads:studio", args=[template.slug])).content.decode()
    assert "said by espeak-ng (hi); lips following the line&#x27;s loudness" in page
    change = admin_client.get(reverse("admin:renders_render_change", args=[render.pk])).content.decode()
    assert "espeak-ng (hi)" in change
