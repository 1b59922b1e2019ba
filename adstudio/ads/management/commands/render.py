"""Render one ad from the shell, through the same code path as the Celery task."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from adstudio.ads import jobs
from adstudio.ads.management.commands._progress import TerminalProgress
from adstudio.ads.models import Render, Template
from adstudio.ads.validators import clean_fan_name


class Command(BaseCommand):
    help = "Render an ad for a selfie. Exit 0: done; 2: bad input (one line on stderr); 1: internal failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--selfie", type=Path, required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        template = Template.objects.filter(slug=opts["slug"]).first()
        if template is None:
            raise CommandError(f"no template with slug {opts['slug']!r}", returncode=2)
        if not template.is_ready:
            raise CommandError(f"template {template.slug} is not analysed yet", returncode=2)
        selfie: Path = opts["selfie"]
        if not selfie.is_file():
            raise CommandError(f"{selfie}: no such file", returncode=2)
        name = ""
        if opts["name"]:
            try:
                name = clean_fan_name(opts["name"])
            except ValidationError as exc:
                raise CommandError(f"--name: {exc.messages[0]}", returncode=2) from None

        render = Render(template=template, owner_session="cli", name=name, consent_at=timezone.now())
        with selfie.open("rb") as fh:
            render.selfie.save(f"cli{selfie.suffix.lower()[:6]}", File(fh), save=False)
        render.save()
        claimed = Render.objects.claim(render.pk, "cli")
        assert claimed is not None  # a row we just created cannot be taken by anyone else
        bar = TerminalProgress("render")
        try:
            render = jobs.run_render(claimed, extra_progress=bar)
        finally:
            bar.close()
        if render.state != Render.State.DONE:
            code = 1 if render.error_code == "internal" else 2
            raise CommandError(render.message, returncode=code)
        out: Path = opts["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(render.video.path, out)
        self.stdout.write(str(out))
