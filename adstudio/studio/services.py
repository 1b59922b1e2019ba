"""Starting the studio's work: an admin's test render is a normal render, queued after commit."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from adstudio.renders.services import enqueue_render


def start_test_render(template: Template, session_key: str, selfie_name: str, selfie_bytes: bytes,
                      name: str) -> Render:
    """An admin's trial of this template with a sample selfie: a normal render, owned by their session."""
    with transaction.atomic():
        render = Render(template=template, owner_session=session_key, name=name, consent_at=timezone.now())
        render.save_with_selfie(selfie_name, ContentFile(selfie_bytes))
        enqueue_render(render)
    return render
