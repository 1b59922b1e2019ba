"""Who made this clip? The invisible watermark is the proof; C2PA content credentials are signed evidence
when a signing key is configured; the MP4's tags are only hints (anyone can write tags).

Signing: after the engine encodes an ad, `sign_video` attaches a C2PA manifest declaring a composite with
trained algorithmic media, the template clip as its parent ingredient. Verifying: `verify_file`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

import swapengine
from adstudio.ads.models import Render
from swapengine.errors import BadInput
from swapengine.media import probe
from swapengine.provenance import COMMENT_PREFIX, RENDER_KEY, TEMPLATE_KEY, read_metadata
from swapengine.watermark import Detection, detect_file

log = logging.getLogger(__name__)

COMPOSITE_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
RENDER_ASSERTION = "com.adstudio.render"
HINT_KEYS = ("comment", RENDER_KEY, TEMPLATE_KEY)


# --- C2PA -------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class C2paStatus:
    on: bool
    reason: str  # what an admin reads: why it is off, or whose certificate signs


@functools.cache
def _status(key: str, cert: str) -> C2paStatus:
    """Computed (and logged) once per process and configuration."""
    if not key:
        status = C2paStatus(False, "C2PA is off (no signing key configured)")
    else:
        try:
            import c2pa  # noqa: F401 - only whether it is importable
        except ImportError:
            status = C2paStatus(False, "C2PA is off (the c2pa-python package is not installed)")
        else:
            status = C2paStatus(True, f"C2PA is on: ads are signed with {cert}")
    log.info("%s", status.reason)
    return status


def c2pa_status() -> C2paStatus:
    return _status(settings.C2PA_SIGNING_KEY, settings.C2PA_CERTIFICATE)


def manifest_for(render_row: Render) -> dict[str, Any]:
    template = render_row.template
    return {
        "claim_generator_info": [{"name": "AdStudio", "version": swapengine.ENGINE_VERSION}],
        "title": f"{template.title} (personalised ad)",
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {"actions": [
                    {"action": "c2pa.opened", "parameters": {"ingredientIds": ["template"]}},
                    {
                        "action": "c2pa.edited",
                        "digitalSourceType": COMPOSITE_AI,
                        "softwareAgent": {"name": "AdStudio swapengine", "version": swapengine.ENGINE_VERSION},
                        "description": "A fan's face was mapped onto a person in the template clip by AI.",
                    },
                ]},
            },
            {
                "label": RENDER_ASSERTION,
                "data": {"render": str(render_row.public_id), "template": template.slug},
            },
        ],
    }


def sign_video(video: Path, template_clip: Path, render_row: Render) -> bool:
    """Replace `video` with a C2PA-signed copy; False (and nothing changed) when C2PA is off."""
    if not c2pa_status().on:
        return False
    import c2pa

    key = Path(settings.C2PA_SIGNING_KEY).read_bytes()
    chain = Path(settings.C2PA_CERTIFICATE).read_bytes()
    signed = video.with_name(video.stem + ".signed.mp4")
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest_for(render_row)) as builder:
            ingredient = {"title": render_row.template.title, "relationship": "parentOf", "label": "template"}
            with template_clip.open("rb") as source:
                builder.add_ingredient(ingredient, "video/mp4", source)
            with video.open("rb") as source, signed.open("w+b") as dest:
                builder.sign(signer, "video/mp4", source, dest)
        os.replace(signed, video)
    finally:
        signed.unlink(missing_ok=True)
    return True


@dataclasses.dataclass(frozen=True)
class Manifest:
    """The parts of a C2PA manifest a person checking a clip cares about."""

    signer: str
    issuer: str
    state: str  # c2pa's validation state: Valid, Trusted or Invalid
    problems: list[str]  # failure codes, e.g. signingCredential.untrusted for a private certificate
    title: str
    ai_composite: bool
    ingredients: list[str]
    render_id: str  # from our own assertion, "" in someone else's manifest
    template_slug: str


def read_manifest(path: Path) -> Manifest | None:
    """The active C2PA manifest of a file, or None (no manifest, or c2pa-python not installed)."""
    try:
        import c2pa
    except ImportError:
        return None
    try:
        with path.open("rb") as stream, c2pa.Reader("video/mp4", stream) as reader:
            active = reader.get_active_manifest() or {}
            state = reader.get_validation_state() or ""
            results = reader.get_validation_results() or {}
    except c2pa.C2paError:
        return None  # most clips carry no manifest at all
    if not active:
        return None
    failures = (results.get("activeManifest") or {}).get("failure") or []
    actions = [a for x in active.get("assertions", []) if x.get("label", "").startswith("c2pa.actions")
               for a in x.get("data", {}).get("actions", [])]
    ours = next((x.get("data", {}) for x in active.get("assertions", []) if x.get("label") == RENDER_ASSERTION),
                {})
    sig = active.get("signature_info") or {}
    return Manifest(
        signer=str(sig.get("common_name", "")),
        issuer=str(sig.get("issuer", "")),
        state=str(state),
        problems=[str(f.get("code", "")) for f in failures],
        title=str(active.get("title", "")),
        ai_composite=any(a.get("digitalSourceType") == COMPOSITE_AI for a in actions),
        ingredients=[str(i.get("title", "")) for i in active.get("ingredients", [])],
        render_id=str(ours.get("render", "")),
        template_slug=str(ours.get("template", "")),
    )


# --- Verification -----------------------------------------------------------------------------------


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
    detection = detect_file(path, settings.WATERMARK_KEY)
    render_row = None
    if detection.found and detection.payload is not None:
        render_row = Render.objects.select_related("template").filter(pk=detection.payload).first()
    tags = read_metadata(path)
    hints = {k: tags[k] for k in HINT_KEYS if k in tags and (k != "comment" or COMMENT_PREFIX in tags[k])}
    return Verification(detection, render_row, hints, read_manifest(path))


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
