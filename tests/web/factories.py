"""Rows for web tests: a template marked analysed (no engine) or really analysed, renders in given states."""

from __future__ import annotations

from pathlib import Path

from django.core.files.base import ContentFile

from adstudio.catalog.models import Template
from adstudio.renders.models import Render


def make_template(title: str = "Diwali wishes", published: bool = True) -> Template:
    template = Template(
        title=title,
        published=published,
        analysis_status=Template.Analysis.READY,
        tracks=[{"id": 0, "start": 0, "end": 10, "frames": 11, "thumbnail": "track_0.jpg"}],
        fan_track=0,
        info={"duration": 4.0, "fps": 25.0, "frame_count": 100, "width": 528, "height": 432, "has_audio": True},
    )
    template.clip.save("clip.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"), save=False)
    template.save()
    return template


def make_render(template: Template, session: str = "s" * 32, **fields: object) -> Render:
    render = Render(template=template, owner_session=session, name="Asha", **fields)
    render.selfie.save("selfie.jpg", ContentFile(b"jpeg bytes"), save=False)
    render.save()
    return render


def make_done_render(template: Template, video: bytes, poster: bytes, session: str = "s" * 32) -> Render:
    """A finished render whose video and poster hold the given bytes."""
    render = make_render(template, session=session)
    folder = f"renders/{render.public_id.hex}"
    render.video.save(f"{folder}/ad.mp4", ContentFile(video), save=False)
    render.poster.save(f"{folder}/poster.jpg", ContentFile(poster), save=False)
    render.state = Render.State.DONE
    render.save()
    return render


def analysed_template(clip: Path, title: str) -> Template:
    """A published template analysed now by the real engine, in this process (no worker needed)."""
    from adstudio.catalog import jobs
    from adstudio.catalog.management.commands.add_template import add_template

    template = add_template(clip, title)
    jobs.run_analysis(template)
    assert template.is_ready, template.analysis_error
    template.published = True
    template.save()
    return template
