"""GET and DELETE /api/v1/renders/{id}: the state, a video the key downloads, cancel or erase; another
organisation's render (and a fan's) is a 404 for every endpoint."""

from __future__ import annotations

import pytest

from adstudio.orgs.models import Organisation
from adstudio.renders.models import Render
from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture
from tests.web.factories import make_done_render, make_render, make_template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


def org_render(org: str, done: bool = False) -> Render:
    template = make_template()
    render = make_done_render(template, b"MP4 bytes", b"JPG") if done else make_render(template)
    render.organisation = Organisation.objects.get(name=org)
    render.save()
    return render


def test_get_queued_and_done(client) -> None:
    key = new_key("Cadbury")
    queued = org_render("Cadbury")
    body = client.get(f"/api/v1/renders/{queued.public_id}", **bearer(key)).json()
    assert body == {"id": str(queued.public_id), "state": "queued", "progress": 0.0, "stage": "queued",
                    "share_url": None, "video_url": None, "error": None}
    done = org_render("Cadbury", done=True)
    body = client.get(f"/api/v1/renders/{done.public_id}", **bearer(key)).json()
    assert body["state"] == "done" and body["share_url"].startswith("http://testserver/a/")
    video = client.get(body["video_url"], **bearer(key))
    assert video.status_code == 200 and b"".join(video.streaming_content) == b"MP4 bytes"
    assert video["Content-Type"] == "video/mp4"
    assert client.get(body["video_url"]).status_code == 401


def test_failed_render_reports_its_error(client) -> None:
    key = new_key("Cadbury")
    render = org_render("Cadbury")
    render.fail("We could not find a face.", "trace", "no_face")
    body = client.get(f"/api/v1/renders/{render.public_id}", **bearer(key)).json()
    assert body["state"] == "failed" and body["error"] == {"code": "no_face", "message": "We could not find a face."}


def test_delete_cancels_then_erases(client) -> None:
    key = new_key("Cadbury")
    render = org_render("Cadbury")
    selfie = render.selfie.path
    response = client.delete(f"/api/v1/renders/{render.public_id}", **bearer(key))
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    render.refresh_from_db()
    assert render.state == "cancelled" and not render.selfie
    import os
    assert not os.path.exists(selfie)
    assert client.delete(f"/api/v1/renders/{render.public_id}", **bearer(key)).status_code == 204
    assert not Render.objects.filter(pk=render.pk).exists()
    done = org_render("Cadbury", done=True)
    video = done.video.path
    assert client.delete(f"/api/v1/renders/{done.public_id}", **bearer(key)).status_code == 204
    assert not os.path.exists(video) and not Render.objects.filter(pk=done.pk).exists()


def test_other_organisations_and_fans_renders_are_404(client) -> None:
    mine, theirs = new_key("Cadbury"), new_key("Zomato")
    their_render = org_render("Zomato", done=True)
    fan_render = make_render(make_template())
    for render in (their_render, fan_render):
        for method, url in [("get", f"/api/v1/renders/{render.public_id}"),
                            ("get", f"/api/v1/renders/{render.public_id}/video"),
                            ("delete", f"/api/v1/renders/{render.public_id}")]:
            response = getattr(client, method)(url, **bearer(mine))
            assert response.status_code == 404, (method, url)
            assert response.json()["error"]["code"] == "not_found"
    assert Render.objects.filter(pk=their_render.pk, state="done").exists()
    assert client.get(f"/api/v1/renders/{their_render.public_id}", **bearer(theirs)).status_code == 200
    assert client.get("/api/v1/renders/not-a-uuid", **bearer(mine)).status_code == 404
