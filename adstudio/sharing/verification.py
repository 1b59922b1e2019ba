"""Was this clip made here? The evidence a clip carries (adstudio.trust.provenance), and the render its
watermark names, if that row still exists. For the public /verify page and `manage.py verify`."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from adstudio.renders.models import Render
from adstudio.trust.provenance import Manifest, read_evidence
from swapengine import BadInput, Detection, probe


@dataclasses.dataclass(frozen=True)
class Verification:
    detection: Detection
    render: Render | None  # the row the watermark names, if it still exists
    hints: dict[str, str]  # the MP4's tags: unverified, shown but never trusted
    manifest: Manifest | None

    @property
    def found(self) -> bool:
        return self.detection.found

    @property
    def render_pk(self) -> int | None:
        return self.detection.payload

    @property
    def deleted(self) -> bool:
        return self.found and self.render is None

    @property
    def created_at(self) -> datetime | None:
        return self.render.created_at if self.render else None

    def verdict(self) -> str:
        if not self.found:
            return "No AdStudio watermark was found in this clip."
        if self.render is None:
            return f"Made here (render #{self.render_pk}), since deleted."
        return f"Made here: render {self.render.public_id}, from the template {self.render.template.slug}."

    def lines(self) -> list[str]:
        """The report, in plain words, for the command line."""
        d = self.detection
        out = [self.verdict()]
        if self.render is not None:
            r = self.render
            out += [f"render: {r.public_id}", f"template: {r.template.slug} ({r.template.title})",
                    f"made: {r.created_at.isoformat(timespec='seconds')}"]
            if r.taken_down_at:
                out.append(f"taken down: {r.taken_down_at.isoformat(timespec='seconds')}")
        out.append(f"watermark: confidence {d.confidence:.1f} (claims need 6), {d.frames} frames read")
        if self.manifest:
            m = self.manifest
            out.append(f"C2PA manifest: signed by {m.signer or '?'} ({m.issuer or '?'}), state {m.state}"
                       + (f", problems: {', '.join(m.problems)}" if m.problems else ""))
            if m.render_id:
                out.append(f"C2PA says: render {m.render_id}, template {m.template_slug}")
        else:
            out.append("C2PA manifest: none")
        for key, value in self.hints.items():
            out.append(f"tag {key} (unverified, anyone can write tags): {value}")
        return out


def verify_file(path: Path) -> Verification:
    """Reads the clip's first 10 s. Raises swapengine's BadInput when it is not a video we can decode."""
    evidence = read_evidence(path)
    detection = evidence.detection
    render_row = None
    if detection.found and detection.payload is not None:
        render_row = Render.objects.select_related("template").filter(pk=detection.payload).first()
    return Verification(detection, render_row, evidence.hints, evidence.manifest)


def verify_upload(upload: UploadedFile | None) -> Verification:
    """A clip sent to /verify: size-checked, content-checked by decoding, read from a private temp file
    that is deleted whatever happens. Raises BadInput with a message for the person who sent it."""
    if upload is None:
        raise BadInput("Please choose a video clip to check.", "no_file")
    if upload.size is None or upload.size > settings.VERIFY_MAX_BYTES:
        size = str(filesizeformat(settings.VERIFY_MAX_BYTES)).replace("\xa0", " ")
        raise BadInput(f"This clip is too big to check here; the limit is {size}.", "too_big")
    folder = Path(settings.RENDER_WORK_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="verify-", suffix=".bin", dir=folder)
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        probe(path)  # by content, not by name: raises BadInput unless it decodes as a video
        return verify_file(path)
    finally:
        path.unlink(missing_ok=True)
