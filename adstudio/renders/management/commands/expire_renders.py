"""Delete rendered ads (files and rows) older than RENDER_TTL_DAYS; what the hourly beat job runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from adstudio.renders.models import Render


class Command(BaseCommand):
    help = "Delete rendered ads older than RENDER_TTL_DAYS with their files. Prints how many were deleted."

    def handle(self, *args: Any, **opts: Any) -> None:
        abandoned = Render.objects.give_up_abandoned()
        count = Render.objects.expire()
        self.stdout.write(f"{abandoned} unfinished render(s) older than {settings.SELFIE_MAX_HOURS} h failed")
        self.stdout.write(f"{count} render(s) older than {settings.RENDER_TTL_DAYS} days deleted")
