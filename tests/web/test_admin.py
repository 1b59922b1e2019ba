"""The admin: staff manage templates (clip checks, faces, publishing) and renders; others are sent away."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.web.factories import make_render, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.ENGINE_CACHE_DIR = tmp_path / "analysis"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
    return tmp_path


@pytest.fixture
def analysed(media: Path) -> Template:
    template = make_template("Cricket cheer")
    template.analysis_key = "abc123"
    template.tracks = [
        {"id": 0, "start": 0, "end": 10, "frames": 11, "thumbnail": "track_0.jpg"},
        {"id": 3, "start": 20, "end": 99, "frames": 80, "thumbnail": "track_3.jpg"},
    ]
    template.save()
    folder = media / "analysis" / "abc123"
    folder.mkdir(parents=True)
    (folder / "track_0.jpg").write_bytes(b"\xff\xd8\xff face zero")
    (folder / "track_3.jpg").write_bytes(b"\xff\xd8\xff face three")
    return template


def change_data(template: Template, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": template.title, "slug": template.slug, "label_corner": template.label_corner,
        "fan_track": "" if template.fan_track is None else template.fan_track, "_save": "Save",
    }
    if template.published:
        data["published"] = "on"
    data.update(overrides)
    return data


def test_template_changelist(admin_client, analysed: Template) -> None:
    make_render(analysed)
    html = admin_client.get(reverse("admin:catalog_template_changelist")).content.decode()
    assert "Cricket cheer" in html and "ready" in html
    assert 'class="field-renders_count">1<' in html


def test_change_form_shows_faces_and_analysis(admin_client, analysed: Template) -> None:
    Template.objects.filter(pk=analysed.pk).update(analysis_message="2 face track(s) found")
    html = admin_client.get(reverse("admin:catalog_template_change", args=[analysed.pk])).content.decode()
    assert f'src="/t/{analysed.slug}/tracks/0.jpg" alt="Face track 0"' in html
    assert f'src="/t/{analysed.slug}/tracks/3.jpg"' in html
    assert "Track 0 (the fan&#x27;s face): frames 0-10 0.0-0.4 s" in html
    assert "2 face track(s) found" in html
    assert '<option value="3">Track 3: frames 20-99</option>' in html


def test_track_thumbnail_is_staff_only(client, admin_client, analysed: Template) -> None:
    url = reverse("ads:track_thumbnail", args=[analysed.slug, 3])
    response = admin_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff face three"
    assert client.get(url).status_code == 302  # to the admin login
    assert admin_client.get(reverse("ads:track_thumbnail", args=[analysed.slug, 7])).status_code == 404


def test_track_thumbnail_cannot_leave_the_cache(admin_client, analysed: Template, media: Path) -> None:
    (media / "secret.jpg").write_bytes(b"not for you")
    Template.objects.filter(pk=analysed.pk).update(
        tracks=[{"id": 0, "start": 0, "end": 1, "frames": 2, "thumbnail": "../../secret.jpg"}]
    )
    assert admin_client.get(reverse("ads:track_thumbnail", args=[analysed.slug, 0])).status_code == 404


def test_choosing_the_fan_track(admin_client, analysed: Template) -> None:
    url = reverse("admin:catalog_template_change", args=[analysed.pk])
    assert admin_client.post(url, change_data(analysed, fan_track=3)).status_code == 302
    analysed.refresh_from_db()
    assert analysed.fan_track == 3
    refused = admin_client.post(url, change_data(analysed, fan_track=5))
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_saving_without_a_new_clip_does_not_reanalyse(
    admin_client, analysed, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(reverse("admin:catalog_template_change", args=[analysed.pk]), change_data(analysed))
    assert callbacks == []
    analysed.refresh_from_db()
    assert analysed.analysis_status == "ready"


def test_new_clip_is_checked_and_analysed(
    admin_client, carphone_clip: Path, django_capture_on_commit_callbacks
) -> None:
    clip = SimpleUploadedFile("call.mp4", carphone_clip.read_bytes(), content_type="video/mp4")
    data = {"title": "Car phone", "slug": "", "label_corner": "bottom-right", "fan_track": "", "clip": clip}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(reverse("admin:catalog_template_add"), data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    template = Template.objects.get(title="Car phone")
    assert template.analysis_status == "pending" and template.slug == "car-phone"
    assert len(callbacks) == 1  # analyse_template.delay, not run here


@pytest.mark.parametrize(
    "payload,message",
    [
        (b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\nfile:///etc/passwd\n", "not a video we can use"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "could not"),  # the right magic, no real video inside
    ],
    ids=["playlist", "broken-mp4"],
)
def test_bad_clips_are_refused(admin_client, payload: bytes, message: str) -> None:
    data = {"title": "Bad", "slug": "", "label_corner": "bottom-right", "fan_track": "", "_save": "Save",
            "clip": SimpleUploadedFile("clip.mp4", payload, content_type="video/mp4")}
    response = admin_client.post(reverse("admin:catalog_template_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Template.objects.filter(title="Bad").exists()


def test_oversize_clip_is_refused(admin_client, settings) -> None:
    settings.TEMPLATE_MAX_BYTES = 100
    data = {"title": "Big", "slug": "", "label_corner": "bottom-right", "fan_track": "", "_save": "Save",
            "clip": SimpleUploadedFile("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)}
    response = admin_client.post(reverse("admin:catalog_template_add"), data)
    assert "the limit is 100 bytes" in response.content.decode()


def test_publish_action_publishes_only_analysed_templates(admin_client, analysed: Template) -> None:
    Template.objects.filter(pk=analysed.pk).update(published=False)
    pending = make_template("Pending", published=False)
    Template.objects.filter(pk=pending.pk).update(analysis_status="pending")
    response = admin_client.post(
        reverse("admin:catalog_template_changelist"),
        {"action": "publish", "_selected_action": [analysed.pk, pending.pk]},
        follow=True,
    )
    assert "Published 1 template(s)." in response.content.decode()
    assert "1 template(s) not published" in response.content.decode()
    assert Template.objects.get(pk=analysed.pk).published
    assert not Template.objects.get(pk=pending.pk).published


def test_unpublish_and_reanalyse_actions(admin_client, analysed, django_capture_on_commit_callbacks) -> None:
    url = reverse("admin:catalog_template_changelist")
    admin_client.post(url, {"action": "unpublish", "_selected_action": [analysed.pk]})
    assert not Template.objects.get(pk=analysed.pk).published
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(url, {"action": "reanalyse", "_selected_action": [analysed.pk]})
    assert len(callbacks) == 1
    assert Template.objects.get(pk=analysed.pk).analysis_status == "pending"


def test_render_admin_list_and_requeue(admin_client, analysed, django_capture_on_commit_callbacks) -> None:
    queued = make_render(analysed)
    failed = make_render(analysed, state="failed")
    html = admin_client.get(reverse("admin:renders_render_changelist")).content.decode()
    assert "Asha" in html and "0%" in html
    assert admin_client.get(reverse("admin:renders_render_change", args=[queued.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(
            reverse("admin:renders_render_changelist"),
            {"action": "requeue", "_selected_action": [queued.pk, failed.pk]},
        )
    assert len(callbacks) == 1


def test_render_admin_delete_removes_files(admin_client, analysed: Template) -> None:
    render = make_render(analysed)
    selfie = Path(render.selfie.path)
    admin_client.post(
        reverse("admin:renders_render_changelist"),
        {"action": "delete_selected", "_selected_action": [render.pk], "post": "yes"},
    )
    assert not Render.objects.filter(pk=render.pk).exists()
    assert not selfie.exists()


@pytest.mark.parametrize("url_name", ["admin:catalog_template_changelist", "admin:renders_render_changelist"])
def test_non_staff_are_sent_to_login(client, url_name: str) -> None:
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    fan = get_user_model().objects.create_user("fan", password="pw-123-long-enough")
    client.force_login(fan)
    assert client.get(url)["Location"].startswith("/admin/login/")
