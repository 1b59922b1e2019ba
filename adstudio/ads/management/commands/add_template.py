"""Add a template clip and analyse it now. The slug is the last line printed, for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adstudio.ads import jobs
from adstudio.ads.management.commands._progress import TerminalProgress
from adstudio.ads.models import Template


class Command(BaseCommand):
    help = "Upload a template clip, analyse it synchronously and print its slug."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clip", type=Path)
        parser.add_argument("--title", required=True)
        parser.add_argument("--fan-track", type=int, default=None, help="track id the fan replaces")
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--corner", choices=Template.Corner.values, default=Template.Corner.BOTTOM_RIGHT)

    def handle(self, *args: Any, **opts: Any) -> None:
        clip: Path = opts["clip"]
        if not clip.is_file():
            raise CommandError(f"{clip}: no such file", returncode=2)
        template = add_template(clip, opts["title"], opts["corner"])
        bar = TerminalProgress("analyse")
        try:
            jobs.run_analysis(template, progress=bar)
        finally:
            bar.close()
        if template.analysis_status != Template.Analysis.READY:
            message = template.analysis_message
            template.delete()
            raise CommandError(f"{clip}: {message}", returncode=2 if "on our side" not in message else 1)
        if opts["fan_track"] is not None:
            if opts["fan_track"] not in template.track_ids():
                raise CommandError(
                    f"--fan-track {opts['fan_track']}: no such track; found {template.track_ids()}", returncode=2
                )
            template.fan_track = opts["fan_track"]
        template.published = opts["publish"]
        template.save()
        for track in template.tracks:
            mark = "*" if track["id"] == template.fan_track else " "
            self.stderr.write(f"{mark} track {track['id']}: frames {track['start']}-{track['end']}")
        self.stdout.write(template.slug)


def add_template(clip: Path, title: str, corner: str = Template.Corner.BOTTOM_RIGHT) -> Template:
    template = Template(title=title, label_corner=corner)
    with clip.open("rb") as fh:
        template.clip.save(clip.name, File(fh), save=False)
    template.save()
    return template
