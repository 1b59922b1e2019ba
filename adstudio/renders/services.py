"""Starting the renders' work: a render task is enqueued only once the caller's transaction commits, so a
worker never sees a row that is not committed (models never import tasks; they only record state).
The fan's form and the API both create their renders with create_render, so both store and queue alike."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django.db import transaction

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from adstudio.renders.tasks import render_ad


def enqueue_render(render: Render | int) -> None:
    """Queue the render task for this row after commit (at once outside a transaction: the recovery sweep)."""
    pk = render if isinstance(render, int) else render.pk
    transaction.on_commit(lambda: render_ad.delay(pk))


def create_render(template: Template, selfie: File | None, **fields: Any) -> Render:
    """Save the row (with its screened, pixels-only selfie) and queue it on commit. Call inside a
    transaction when checks (a session's limit, an idempotency key) must hold together with the insert."""
    with transaction.atomic():
        render = Render(template=template, **fields)
        if selfie is not None:
            render.save_with_selfie(selfie.name or "selfie.jpg", selfie)
        else:
            render.save()
        enqueue_render(render)
    return render
