"""Dialogue slots, context tables, the phrase bank and sensitive terms: what a template asks and says."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from adstudio.catalog.models import ContextTable, DialogueSlot, PhraseRecording
from adstudio.trust.models import SensitiveTerm
from tests.web.factories import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def slot(template, line: str, start: float = 1.0, end: float = 2.0) -> DialogueSlot:
    return DialogueSlot.objects.create(template=template, start=start, end=end, line=line)


def test_placeholders_are_sorted_and_unique() -> None:
    template = make_template()
    slot(template, "Order from {shop} in {city}")
    slot(template, "Thanks {name}, see you in {city}!", 2.5, 3.5)
    assert template.placeholders() == ["city", "name", "shop"]


@pytest.mark.parametrize("line", ["Hi {Name}", "Hi {first name}", "Hi {}", "Hi {name", "Hi name}", "   "])
def test_bad_lines_are_refused(line: str) -> None:
    with pytest.raises(ValidationError):
        DialogueSlot(template=make_template(), start=0.5, end=1.5, line=line).full_clean()


def test_span_must_fit_the_clip() -> None:
    template = make_template()  # 4.0 s
    with pytest.raises(ValidationError, match="only 4.00 s"):
        DialogueSlot(template=template, start=3.0, end=4.5, line="{name}").full_clean()
    with pytest.raises(ValidationError, match="0.2 s"):
        DialogueSlot(template=template, start=2.0, end=2.1, line="{name}").full_clean()
    DialogueSlot(template=template, start=3.0, end=4.0, line="{name}").full_clean()


def test_face_only_template_asks_selfie_and_name() -> None:
    template = make_template()
    assert template.asks_for() == ["a selfie", "your name"]
    assert template.is_ready


def test_dialogue_only_template_asks_only_its_placeholders() -> None:
    template = make_template()
    template.swap_face, template.fan_track = False, None
    template.save()
    slot(template, "Order from {shop} today")
    assert template.is_ready  # no face to choose
    assert not template.asks_name()
    assert template.asks_for() == ["shop"]
    assert [(f.name, f.choices) for f in template.fan_fields()] == [("shop", None)]


def test_context_table_turns_its_target_into_a_pick() -> None:
    template = make_template()
    slot(template, "{name}, try the {dish} in {city}!")
    ContextTable.objects.create(template=template, key_field="city", target="dish",
                                rows={"Pune": "misal pav", "Delhi": "chole bhature"})
    assert [(f.name, f.choices) for f in template.fan_fields()] == [("city", ["Delhi", "Pune"])]
    values = template.fill("Asha", {"city": "Pune"})
    assert template.slots.get().text(values) == "Asha, try the misal pav in Pune!"
    with pytest.raises(ValueError, match="dish"):
        template.fill("Asha", {"city": "Goa"})


def test_context_table_rows_are_checked() -> None:
    template = make_template()
    with pytest.raises(ValidationError):
        ContextTable(template=template, key_field="city", target="dish", rows={"Pune": ""}).full_clean()
    with pytest.raises(ValidationError):
        ContextTable(template=template, key_field="City", target="dish", rows={"Pune": "x"}).full_clean()


def test_phrase_bank_matches_whole_text_ignoring_case_and_accents() -> None:
    template, other = make_template(), make_template("Other")
    shared = PhraseRecording(text="Zoë", audio=ContentFile(b"RIFF", name="zoe.wav"))
    shared.save()
    own = PhraseRecording(template=template, text="zoe!", audio=ContentFile(b"RIFF", name="zoe2.wav"))
    own.save()
    assert PhraseRecording.objects.matching(template, "ZOE") == own  # the template's own take first
    assert PhraseRecording.objects.matching(other, "zoë") == shared
    assert PhraseRecording.objects.matching(template, "Zoe Smith") is None


def test_sensitive_terms_list() -> None:
    SensitiveTerm.objects.create(term="Swiggy")
    SensitiveTerm.objects.create(term="Acme Cola")
    assert SensitiveTerm.terms() == ["Acme Cola", "Swiggy"]
