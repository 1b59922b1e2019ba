"""Add a template clip (and its dialogue slots) and analyse it now. The slug is the last line printed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adstudio.catalog import jobs
from adstudio.catalog.lines import check_line
from adstudio.catalog.management.commands._progress import TerminalProgress
from adstudio.catalog.models import DialogueSlot, Template


class Command(BaseCommand):
    help = "Upload a template clip, analyse it synchronously and print its slug."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clip", type=Path)
        parser.add_argument("--title", required=True)
        parser.add_argument("--fan-track", type=fan_track, default=None,
                            help="track id the fan replaces, or 'none' for a dialogue-only ad (no selfie)")
        parser.add_argument("--dialogue", action="append", default=[], metavar="START-END:LINE",
                            help="a dialogue slot, e.g. '2.1-3.4:Happy Diwali, {name}!' (repeatable)")
        parser.add_argument("--speaker-track", type=int, default=None,
                            help="the face track who says the slots (default: whose mouth moves most there)")
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--corner", choices=Template.Corner.values, default=Template.Corner.BOTTOM_RIGHT)

    def handle(self, *args: Any, **opts: Any) -> None:
        clip: Path = opts["clip"]
        if not clip.is_file():
            raise CommandError(f"{clip}: no such file", returncode=2)
        slots = [parse_slot(text) for text in opts["dialogue"]]
        no_face = opts["fan_track"] == "none"
        if no_face and not slots:
            raise CommandError("--fan-track none needs at least one --dialogue slot: the ad would say nothing new",
                               returncode=2)
        template = add_template(clip, opts["title"], opts["corner"])
        template.swap_face = not no_face
        template.save()
        for start, end, line in slots:
            DialogueSlot.objects.create(template=template, start=start, end=end, line=line,
                                        speaker_track=opts["speaker_track"])
        bar = TerminalProgress("analyse")
        try:
            jobs.run_analysis(template, progress=bar)
        finally:
            bar.close()
        if template.analysis_status != Template.Analysis.READY:
            message = template.analysis_message
            template.delete()
            raise CommandError(f"{clip}: {message}", returncode=2 if "on our side" not in message else 1)
        problem = self._check_tracks(template, opts)
        if problem:
            template.delete()
            raise CommandError(problem, returncode=2)
        if isinstance(opts["fan_track"], int):
            template.fan_track = opts["fan_track"]
        template.published = opts["publish"]
        template.save()
        for track in template.tracks:
            mark = "*" if track["id"] == template.fan_track and template.swap_face else " "
            self.stderr.write(f"{mark} track {track['id']}: frames {track['start']}-{track['end']}")
        for slot in template.slots.all():
            self.stderr.write(f"  slot {slot.start:.2f}-{slot.end:.2f} s, track {slot.speaker_track}: {slot.line}")
        self.stdout.write(template.slug)

    @staticmethod
    def _check_tracks(template: Template, opts: dict[str, Any]) -> str:
        found = template.track_ids()
        if isinstance(opts["fan_track"], int) and opts["fan_track"] not in found:
            return f"--fan-track {opts['fan_track']}: no such track; found {found}"
        if opts["speaker_track"] is not None and opts["speaker_track"] not in found:
            return f"--speaker-track {opts['speaker_track']}: no such track; found {found}"
        duration = template.duration
        for slot in template.slots.all():
            if duration and slot.end > duration + 0.01:
                return f"--dialogue {slot.start}-{slot.end}: the clip is only {duration:.2f} s long"
        return ""


def fan_track(value: str) -> int | str:
    if value.strip().lower() == "none":
        return "none"
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a track id (a number) or 'none'") from None


def parse_slot(text: str) -> tuple[float, float, str]:
    """'2.1-3.4:Happy Diwali, {name}!' -> (2.1, 3.4, 'Happy Diwali, {name}!'), or a one-line CommandError."""
    span, sep, line = text.partition(":")
    start_text, dash, end_text = span.partition("-")
    try:
        if not sep or not dash:
            raise ValueError
        start, end = float(start_text), float(end_text)
    except ValueError:
        raise CommandError(f"--dialogue {text!r}: write START-END:LINE, e.g. '2.1-3.4:Happy Diwali, {{name}}!'",
                           returncode=2) from None
    if start < 0 or end - start < 0.2:
        raise CommandError(f"--dialogue {text!r}: a slot starts at 0 s or later and lasts at least 0.2 s",
                           returncode=2)
    try:
        check_line(line)
    except ValidationError as exc:
        raise CommandError(f"--dialogue {text!r}: {exc.messages[0]}", returncode=2) from None
    return start, end, line.strip()


def add_template(clip: Path, title: str, corner: str = Template.Corner.BOTTOM_RIGHT) -> Template:
    template = Template(title=title, label_corner=corner)
    with clip.open("rb") as fh:
        template.clip.save(clip.name, File(fh), save=False)
    template.save()
    return template
