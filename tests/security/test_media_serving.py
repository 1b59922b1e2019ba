"""Media is never served as a folder: only our views, with fixed content types, nosniff, and CSRF on forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from adstudio.renders.models import Render
from tests.security.conftest import random_ip
from tests.web.factories import make_done_render, make_render, make_template
from tests.web.selfies import face_bytes

pytestmark = pytest.mark.django_db


def done_render() -> Render:
    return make_done_render(
        make_template(), video=b"<html><script>alert(1)</script></html>", poster=b"<svg onload=alert(1)>"
    )


def test_media_files_have_no_url_of_their_own(client, media: Path) -> None:
    render = done_render()
    for name in (render.selfie.name, render.video.name, render.poster.name, render.template.clip.name):
        assert (media / name).exists()
        for prefix in ("/media/", "/", "/static/"):
            assert client.get(prefix + name).status_code == 404, prefix + name


def test_media_views_use_fixed_types_and_nosniff(client, media: Path) -> None:
    """Even a file whose bytes look like HTML goes out as the type we decided, never sniffed."""
    render = done_render()
    for name, kind in (("ads:share_video", "video/mp4"), ("ads:share_poster", "image/jpeg")):
        response = client.get(reverse(name, args=[render.share_token]))
        assert response.status_code == 200
        assert response["Content-Type"] == kind
        assert response["X-Content-Type-Options"] == "nosniff"


def test_every_fan_form_needs_csrf(media: Path) -> None:
    template = make_template()
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR=random_ip())
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"name": "Asha", "consent": "on", "selfie": SimpleUploadedFile("a.jpg", face_bytes())}
    assert strict.post(reverse("ads:personalise", args=[template.slug]), data).status_code == 403
    assert Render.objects.count() == 0
    render = make_render(template, session="s" * 32)
    assert strict.post(reverse("ads:render_delete", args=[render.public_id])).status_code == 403
    assert Render.objects.filter(pk=render.pk).exists()
    login = strict.post(reverse("admin:login"), {"username": "admin", "password": "x"})
    assert login.status_code == 403
    # With the token from the page, the same form goes through.
    page = strict.get(reverse("ads:personalise", args=[template.slug]))
    token = page.cookies["csrftoken"].value
    data = {"name": "Asha", "consent": "on", "selfie": SimpleUploadedFile("a.jpg", face_bytes()),
            "csrfmiddlewaretoken": token}
    assert strict.post(reverse("ads:personalise", args=[template.slug]), data).status_code == 302


def test_share_tokens_carry_at_least_128_bits(media: Path) -> None:
    import base64

    tokens = {make_render(make_template(f"T{i}")).share_token for i in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
