"""POST /api/v1/renders refuses bad input at once (never a 202 that fails later), with the line the fan's
form shows, the error shape, a fitting status, and no render row or stored file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from adstudio.renders.models import Render
from adstudio.trust.models import SensitiveTerm
from adstudio.trust.screening import screen_selfie
from tests.web.apikit import api_media, bearer, new_key  # noqa: F401 - api_media is a fixture
from tests.web.factories import make_template
from tests.web.selfies import REFUSED, face_bytes, variant_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_media")]


def post(client, data: dict, selfie: bytes | None = None, **extra: str):
    if selfie is not None:
        data = {**data, "selfie": SimpleUploadedFile("me.jpg", selfie, content_type="image/jpeg")}
    return client.post("/api/v1/renders", data, **bearer(new_key()), **extra)


def refused(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert Render.objects.count() == 0
    return str(body["error"]["message"])


def stored_files(root: Path) -> list[str]:
    return [name for _, _, names in os.walk(root) for name in names]


@pytest.mark.parametrize("code", list(REFUSED))
def test_selfie_the_form_refuses(client, settings, tmp_path: Path, code: str) -> None:
    data = variant_bytes(code)
    picture = tmp_path / "p.jpg"
    picture.write_bytes(data)
    expected = screen_selfie(picture)
    assert expected is not None
    message = refused(post(client, {"template": make_template().slug, "name": "Asha"}, data), 422, code)
    assert message == expected.message
    assert stored_files(Path(settings.MEDIA_ROOT) / "selfies") == []  # no selfie kept


@pytest.mark.parametrize(("content", "code"), [
    (b"hello, I am not a photo", "not_image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "markup"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video"),
])
def test_wrong_type(client, content: bytes, code: str) -> None:
    refused(post(client, {"template": make_template().slug, "name": "Asha"}, content), 422, code)


def test_missing_selfie_and_missing_name(client) -> None:
    slug = make_template().slug
    assert "selfie" in refused(post(client, {"template": slug, "name": "Asha"}), 422, "required")
    refused(post(client, {"template": slug}, face_bytes()), 422, "required")


def test_name_screening_refusal_matches_the_form(client) -> None:
    from adstudio.renders.forms import PersonaliseForm

    SensitiveTerm.objects.create(term="badword")
    template = make_template()
    form = PersonaliseForm({"name": "badword", "consent": "on"}, {}, template=template)
    form.is_valid()
    (expected,) = form.errors["name"]
    message = refused(post(client, {"template": template.slug, "name": "badword"}, face_bytes()), 422,
                      form.errors.as_data()["name"][0].code or "invalid")
    assert message == expected
    long_name = refused(post(client, {"template": template.slug, "name": "A" * 300}, face_bytes()), 422,
                        PersonaliseForm({"name": "A" * 300}, template=template).errors.as_data()["name"][0].code)
    assert long_name


def test_too_large(client, settings) -> None:
    settings.SELFIE_MAX_BYTES = 10_000
    refused(post(client, {"template": make_template().slug, "name": "Asha"}, face_bytes()), 413, "too_big")
    response = post(client, {"template": make_template("Other").slug, "name": "Asha"}, b"x" * 2_200_000)
    refused(response, 413, "too_large")  # the Content-Length check, before the body is read


def test_unknown_template_unknown_field_missing_template(client) -> None:
    refused(post(client, {"template": "no-such-ad", "name": "Asha"}, face_bytes()), 404, "unknown_template")
    draft = make_template("Draft", published=False)
    refused(post(client, {"template": draft.slug, "name": "Asha"}, face_bytes()), 404, "unknown_template")
    slug = make_template().slug
    refused(post(client, {"template": slug, "name": "Asha", "colour": "red"}, face_bytes()), 422, "unknown_field")
    refused(post(client, {"name": "Asha"}, face_bytes()), 422, "invalid")
