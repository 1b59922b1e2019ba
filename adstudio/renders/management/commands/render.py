"""Render one ad from the shell, through the same code path as the Celery task."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from adstudio.catalog.management.commands._progress import TerminalProgress
from adstudio.catalog.models import Template
from adstudio.renders import jobs
from adstudio.renders.models import Render
from adstudio.trust.models import SensitiveTerm
from adstudio.trust.screening import screen_selfie, screen_spoken
from adstudio.trust.validators import clean_fan_name


class Command(BaseCommand):
    help = "Render an ad for a selfie. Exit 0: done; 2: bad input (one line on stderr); 1: internal failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--selfie", type=Path, default=None, help="needed when the template swaps a face")
        parser.add_argument("--name", default="")
        parser.add_argument("--field", action="append", default=[], metavar="KEY=VALUE",
                            help="a dialogue placeholder's value, e.g. city=Pune (repeatable)")
        parser.add_argument("--slot-audio", type=Path, default=None,
                            help="a recording said in the dialogue slot instead of the voice engine")
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        template = Template.objects.filter(slug=opts["slug"]).first()
        if template is None:
            raise CommandError(f"no template with slug {opts['slug']!r}", returncode=2)
        if not template.is_ready:
            raise CommandError(f"template {template.slug} is not analysed yet", returncode=2)
        selfie: Path | None = opts["selfie"]
        if template.swap_face and selfie is None:
            raise CommandError(f"template {template.slug} puts the fan's face in the ad: give --selfie", returncode=2)
        for path in (selfie, opts["slot_audio"]):
            if path is not None and not path.is_file():
                raise CommandError(f"{path}: no such file", returncode=2)
        name, fields = self._words(template, opts)
        if selfie is not None and template.swap_face:  # the fan form's check: refused before any work
            refusal = screen_selfie(selfie)
            if refusal is not None:
                raise CommandError(refusal.message, returncode=2)

        render = Render(template=template, owner_session="cli", name=name, fields=fields, consent_at=timezone.now())
        if selfie is not None and template.swap_face:
            with selfie.open("rb") as fh:
                render.selfie.save(f"cli{selfie.suffix.lower()[:6]}", File(fh), save=False)
        render.save()
        claimed = Render.objects.claim(render.pk, "cli")
        assert claimed is not None  # a row we just created cannot be taken by anyone else
        bar = TerminalProgress("render")
        try:
            render = jobs.run_render(claimed, extra_progress=bar, slot_audio=opts["slot_audio"])
        finally:
            bar.close()
        if render.state != Render.State.DONE:
            code = 1 if render.error_code == "internal" else 2
            raise CommandError(render.message, returncode=code)
        out: Path = opts["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(render.video.path, out)
        for note in render.notes:
            self.stderr.write(note)
        self.stdout.write(str(out))

    @staticmethod
    def _words(template: Template, opts: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The name and placeholder values, screened as the fan's form screens them (one line if refused)."""
        terms = SensitiveTerm.terms()
        name = ""
        try:
            if opts["name"]:
                name = screen_spoken(clean_fan_name(opts["name"]), terms)
            elif "name" in template.placeholders():
                raise ValidationError("this ad says the fan's name: give --name")
        except ValidationError as exc:
            raise CommandError(f"--name: {exc.messages[0]}", returncode=2) from None
        fields: dict[str, str] = {}
        wanted = {f.name: f for f in template.fan_fields()}
        for item in opts["field"]:
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or key not in wanted:
                known = ", ".join(sorted(wanted)) or "none"
                raise CommandError(f"--field {item!r}: write KEY=VALUE with KEY one of: {known}", returncode=2)
            choices = wanted[key].choices
            try:
                if choices is not None and value not in choices:
                    raise ValidationError(f"choose one of {', '.join(choices)}")
                fields[key] = value if choices is not None else screen_spoken(value, terms)
            except ValidationError as exc:
                raise CommandError(f"--field {key}: {exc.messages[0]}", returncode=2) from None
        missing = sorted(set(wanted) - set(fields))
        if missing:
            raise CommandError(f"this ad needs --field {missing[0]}=...", returncode=2)
        return name, fields
