"""The split of the `ads` app into catalog, renders and trust carries an existing database across.

The old schema is built by migrating back to ads.0004 (the last migration before the split), rows are written
through the historical `ads` models, then everything is migrated forward: the rows and their relations must
be readable through the new apps' models, and the content types (so permissions) follow the models.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from adstudio.catalog.models import ContextTable, DialogueSlot, PhraseRecording, Template
from adstudio.renders.models import Render
from adstudio.trust.models import SensitiveTerm

BEFORE_SPLIT = [("ads", "0004_render_notes")]


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_split_keeps_rows_relations_and_permissions() -> None:
    executor = migrate(BEFORE_SPLIT)
    old = executor.loader.project_state(BEFORE_SPLIT).apps
    # The content types post_migrate made for the new apps were relabelled back to `ads` on the way down.
    assert ContentType.objects.filter(app_label="ads", model="template").exists()
    template = old.get_model("ads", "Template").objects.create(
        title="Diwali", slug="diwali", clip="templates/x.mp4", analysis_status="ready", fan_track=2,
        tracks=[{"id": 2, "start": 0, "end": 9}],
    )
    old.get_model("ads", "DialogueSlot").objects.create(template=template, start=1.0, end=2.0, line="Hi {name}!")
    old.get_model("ads", "ContextTable").objects.create(template=template, key_field="city", target="dish",
                                                        rows={"Pune": "misal pav"})
    old.get_model("ads", "PhraseRecording").objects.create(template=template, text="Asha", key="asha",
                                                           audio="phrases/asha.wav")
    old.get_model("ads", "SensitiveTerm").objects.create(term="rival cola")
    render = old.get_model("ads", "Render").objects.create(
        template=template, share_token="tok-before-split", name="Asha", state="done", notes=["piper"],
        fields={"city": "Pune"},
    )
    editors = Group.objects.create(name="editors")
    editors.permissions.add(Permission.objects.get(content_type__app_label="ads", codename="change_template"))

    migrate(executor.loader.graph.leaf_nodes())

    moved = Template.objects.get(slug="diwali")
    assert (moved.pk, moved.title, moved.fan_track, moved.is_ready) == (template.pk, "Diwali", 2, True)
    assert [s.line for s in moved.slots.all()] == ["Hi {name}!"]
    assert DialogueSlot.objects.get().template_id == moved.pk
    assert ContextTable.objects.get().rows == {"Pune": "misal pav"}
    assert PhraseRecording.objects.matching(moved, "asha!").text == "Asha"
    assert SensitiveTerm.terms() == ["rival cola"]
    kept = Render.objects.get(pk=render.pk)
    assert (kept.template, kept.share_token, kept.notes, kept.fields) == (moved, "tok-before-split", ["piper"],
                                                                          {"city": "Pune"})
    assert list(moved.renders.all()) == [kept]
    # New rows go into the same tables.
    assert Render.objects.create(template=moved).pk > render.pk
    # Permissions granted on the old models still apply to the moved ones.
    assert editors.permissions.filter(content_type__app_label="catalog", codename="change_template").exists()
    assert not ContentType.objects.filter(app_label="ads").exists()


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_old_admin_links_redirect_to_the_moved_models(admin_client) -> None:
    response = admin_client.get("/admin/ads/render/?state=done")
    assert response.status_code == 301 and response["Location"] == "/admin/renders/render/?state=done"
    response = admin_client.get("/admin/ads/template/7/change/")
    assert response["Location"] == reverse("admin:catalog_template_change", args=[7])
    assert admin_client.get("/admin/ads/sensitiveterm/")["Location"] == "/admin/trust/sensitiveterm/"
