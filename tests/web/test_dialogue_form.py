"""The personalise form asks only what the template uses, and screens every spoken word."""

from __future__ import annotations

import pytest
from django.urls import reverse

from adstudio.catalog.models import ContextTable, DialogueSlot
from adstudio.renders import services
from adstudio.renders.models import Render
from adstudio.trust.models import SensitiveTerm
from tests.web.factories import make_template
from tests.web.selfies import face_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """The render task is not under test here: keep the queued row as the form left it."""
    monkeypatch.setattr(services, "enqueue_render", lambda render: None)


def shop_ad():
    template = make_template("Shop ad")
    template.swap_face, template.fan_track = False, None
    template.save()
    DialogueSlot.objects.create(template=template, start=1.0, end=2.5, line="Order {dish} from {shop} in {city}!")
    ContextTable.objects.create(template=template, key_field="city", target="dish", rows={"Pune": "misal"})
    return template


def page(client, template) -> str:
    return client.get(reverse("ads:personalise", args=[template.slug])).content.decode()


def test_dialogue_only_form_has_no_selfie_and_its_fields(client) -> None:
    html = page(client, shop_ad())
    assert 'type="file"' not in html and 'name="name"' not in html
    assert 'name="field_shop"' in html and 'name="field_city"' in html


def test_context_table_key_is_a_select(client) -> None:
    template = make_template()
    DialogueSlot.objects.create(template=template, start=1.0, end=2.5, line="{name}, try {dish}!")
    ContextTable.objects.create(template=template, key_field="city", target="dish",
                                rows={"Pune": "misal pav", "Delhi": "chole"})
    html = page(client, template)
    assert '<select name="field_city"' in html and '<option value="Pune">Pune</option>' in html
    assert 'name="field_dish"' not in html and 'name="name"' in html and 'type="file"' in html


def test_dialogue_only_post_makes_a_render_with_its_fields(client) -> None:
    template = shop_ad()
    response = client.post(reverse("ads:personalise", args=[template.slug]),
                            {"field_shop": "Sharma Sweets", "field_city": "Pune"})
    render = Render.objects.get()
    assert response.status_code == 302 and response["Location"] == render.get_absolute_url()
    assert render.fields == {"shop": "Sharma Sweets", "city": "Pune"} and not render.selfie and render.name == ""
    assert render.template.fill(render.name, render.fields)["dish"] == "misal"


@pytest.mark.parametrize(("field", "value", "words"), [
    ("field_shop", "Swiggy Mart", "word we can"),  # an admin's sensitive term
    ("field_shop", "f u c k", "different name"),
    ("field_shop", "Shop 24", "numbers"),
    ("field_city", "Goa", "valid choice"),
])
def test_refused_values_say_why(client, field, value, words) -> None:
    SensitiveTerm.objects.create(term="swiggy")
    template = shop_ad()
    data = {"field_shop": "Sharma Sweets", "field_city": "Pune", field: value}
    response = client.post(reverse("ads:personalise", args=[template.slug]), data)
    assert response.status_code == 200 and not Render.objects.exists()
    assert words in response.content.decode().replace("&#x27;", "'")


def test_name_is_screened_with_sensitive_terms(client) -> None:
    SensitiveTerm.objects.create(term="Acme Cola")
    template = make_template()
    url = reverse("ads:personalise", args=[template.slug])
    response = client.post(url, {"name": "acme  cola", "consent": "on", "selfie": face_upload()})
    assert response.status_code == 200 and not Render.objects.exists()
    assert "word we can" in response.content.decode().replace("&#x27;", "'")
    response = client.post(url, {"name": "Zoë", "consent": "on", "selfie": face_upload()})
    assert response.status_code == 302 and Render.objects.get().name == "Zoë"


def test_dialogue_only_render_speaks_of_the_line_not_a_selfie(client) -> None:
    template = shop_ad()
    client.post(reverse("ads:personalise", args=[template.slug]), {"field_shop": "Sharma", "field_city": "Pune"})
    render = Render.objects.get()
    Render.objects.filter(pk=render.pk).update(state=Render.State.RUNNING)
    assert render.record_progress("prepare", 0.01) and render.message == "Recording your line"
    html = client.get(render.get_absolute_url()).content.decode()
    assert "Recording your line" in html and "Checking your selfie" not in html
