"""Starting the renders' work: a render task is enqueued only once the caller's transaction commits, so a
worker never sees a row that is not committed (models never import tasks; they only record state)."""

from __future__ import annotations

from django.db import transaction

from adstudio.renders.models import Render
from adstudio.renders.tasks import render_ad


def enqueue_render(render: Render | int) -> None:
    """Queue the render task for this row after commit (at once outside a transaction: the recovery sweep)."""
    pk = render if isinstance(render, int) else render.pk
    transaction.on_commit(lambda: render_ad.delay(pk))
