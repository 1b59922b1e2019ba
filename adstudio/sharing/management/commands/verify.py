"""Was this clip made here? Exit 0: our watermark was found (render id and template slug are printed);
1: no mark was found; 2: the file is missing or is not a video we can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adstudio.sharing.verification import verify_file
from swapengine import BadInput


class Command(BaseCommand):
    help = "Look for this studio's invisible watermark in a clip and report which render and template made it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        try:
            result = verify_file(path)
        except BadInput as exc:
            raise CommandError(f"{path}: {exc.user_message}", returncode=2) from None
        for line in result.lines()[1:]:
            self.stdout.write(line)
        if not result.found:
            raise CommandError(result.verdict(), returncode=1)
        self.stdout.write(result.verdict())
