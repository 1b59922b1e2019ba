"""Rows for web tests that do not need the engine: a template marked analysed, a render with a selfie."""

from __future__ import annotations

from django.core.files.base import ContentFile

from adstudio.ads.models import Render, Template


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
