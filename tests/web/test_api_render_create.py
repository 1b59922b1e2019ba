"""POST /api/v1/renders: a good selfie and name make a queued render of the caller's organisation, stored
and queued by the same service as the fan's form (pixels-only selfie, task enqueued on commit)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from adstudio.catalog.models import DialogueSlot
from adstudio.orgs.models import Organisation
from adstudio.renders.models import Render
from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture
from tests.web.factories import make_template
from tests.web.selfies import face_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


def test_201_queued_and_enqueued(client, django_capture_on_commit_callbacks) -> None:
    template = make_template()
    DialogueSlot.objects.create(template=template, start=0.5, end=2.0, line="Happy Diwali {name} from {city}")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/v1/renders", {
            "template": template.slug, "name": "Asha", "city": "Pune",
            "selfie": SimpleUploadedFile("IMG_0001.jpg", face_bytes(), content_type="image/jpeg"),
        }, **bearer(new_key("Cadbury")))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {"id": body["id"], "state": "queued"}
    render = Render.objects.get(public_id=body["id"])
    assert render.organisation == Organisation.objects.get(name="Cadbury")
    assert render.name == "Asha" and render.fields == {"city": "Pune"} and render.owner_session == ""
    assert render.consent_at is not None and render.consent_version.startswith("api-")
    assert "IMG_0001" not in render.selfie.name  # a random name, as the form stores it
    with Image.open(render.selfie.path) as stored:
        assert not stored.info.get("exif")
    assert len(callbacks) == 1  # render_ad queued once, on commit


def test_a_spoken_only_template_needs_no_selfie(client) -> None:
    template = make_template("Shop ad")
    template.swap_face = False
    template.save()
    DialogueSlot.objects.create(template=template, start=0.5, end=2.0, line="Welcome to {shop}")
    response = client.post("/api/v1/renders", {"template": template.slug, "shop": "Gupta Stores"},
                           **bearer(new_key()))
    assert response.status_code == 201, response.content
    render = Render.objects.get()
    assert render.fields == {"shop": "Gupta Stores"} and not render.selfie and render.consent_at is None
