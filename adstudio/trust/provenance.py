"""Who made this clip? The invisible watermark is the proof; C2PA content credentials are signed evidence
when a signing key is configured; the MP4's tags are only hints (anyone can write tags).

Signing: after the engine encodes an ad, `sign_video` attaches a C2PA manifest declaring a composite with
trained algorithmic media, the template clip as its parent ingredient. Reading: `read_evidence` gathers
all three from a file; which render the watermark names is looked up by `adstudio.sharing.verification`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
from pathlib import Path
from typing import Any

from django.conf import settings

import swapengine
from swapengine import COMMENT_PREFIX, RENDER_KEY, TEMPLATE_KEY, Detection, detect_file, read_metadata

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


@dataclasses.dataclass(frozen=True)
class AdFacts:
    """What a signed ad says about itself: its render and the template it was made from."""

    render_id: str  # the render's public id
    template_title: str
    template_slug: str


def manifest_for(ad: AdFacts) -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "AdStudio", "version": swapengine.ENGINE_VERSION}],
        "title": f"{ad.template_title} (personalised ad)",
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
                "data": {"render": ad.render_id, "template": ad.template_slug},
            },
        ],
    }


def sign_video(video: Path, template_clip: Path, ad: AdFacts) -> bool:
    """Replace `video` with a C2PA-signed copy; False (and nothing changed) when C2PA is off."""
    if not c2pa_status().on:
        return False
    import c2pa

    key = Path(settings.C2PA_SIGNING_KEY).read_bytes()
    chain = Path(settings.C2PA_CERTIFICATE).read_bytes()
    signed = video.with_name(video.stem + ".signed.mp4")
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest_for(ad)) as builder:
            ingredient = {"title": ad.template_title, "relationship": "parentOf", "label": "template"}
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
    ours: dict[str, Any] = next(
        (x.get("data", {}) for x in active.get("assertions", []) if x.get("label") == RENDER_ASSERTION), {}
    )
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


# --- Reading -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What a clip says about where it came from, before any database lookup."""

    detection: Detection  # the invisible watermark: the proof
    hints: dict[str, str]  # the MP4's tags: unverified, shown but never trusted
    manifest: Manifest | None


def read_evidence(path: Path) -> Evidence:
    """Reads the clip's first 10 s. Raises swapengine's BadInput when it is not a video we can decode."""
    detection = detect_file(path, settings.WATERMARK_KEY)
    tags = read_metadata(path)
    hints = {k: tags[k] for k in HINT_KEYS if k in tags and (k != "comment" or COMMENT_PREFIX in tags[k])}
    return Evidence(detection, hints, read_manifest(path))
