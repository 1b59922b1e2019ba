"""Template analysis: face tracks of a clip, computed once and cached by content and engine version.

Every render of a template reuses the cache, so a fan's render never runs the clip-wide face pass.
The cache directory appears complete or not at all (written aside, then renamed into place).
One decode runs the face mesh, finds scene cuts and samples skin colours; a second, partial decode
computes face embeddings only when there are several fragments that could be one person; landmarks are
then smoothed, and head pose and occlusion are estimated per frame, all from arrays already in memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from swapengine import media
from swapengine.errors import BadInput, EngineError
from swapengine.faces import pose, smoothing
from swapengine.faces.detect import Face, FaceAnalyzer
from swapengine.faces.identity import FaceIdentity
from swapengine.faces.tracks import MIN_TRACK_FRAMES, CutDetector, FaceTrack, Fragment, link, merge
from swapengine.progress import Progress, ProgressCallback
from swapengine.version import ENGINE_VERSION

THUMB_PX = 160
EMBED_SAMPLES = 3
OCCLUDED_DEV = 10.0
OCCLUDED_SPREAD = 4.0
"""A skin point is covered when its Lab distance from its usual colour (after removing the frame's
overall shift) exceeds OCCLUDED_DEV and OCCLUDED_SPREAD times its usual variation. On the clean dev
templates this flags a median of 0-0.3% of points (95th percentile 1-7%)."""


def _track_stats(t: FaceTrack) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    if t.pose is not None and len(t.pose):
        yaw = t.pose[:, 0][np.isfinite(t.pose[:, 0])]
        if len(yaw):
            stats["yaw_range"] = [round(float(yaw.min()), 1), round(float(yaw.max()), 1)]
    if t.occlusion is not None and len(t.occlusion):
        stats["occluded_share"] = round(float((t.occlusion > 0.25).mean()), 3)
    return stats


def face_embedding(identity: FaceIdentity, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """dlib descriptor with a box from the mesh (brows to chin, cheek to cheek), on a small crop: one box
    rule for selfies, templates and outputs, and no slow whole-frame dlib detection."""
    x0, x1 = float(landmarks[234, 0]), float(landmarks[454, 0])
    y0, y1 = float(landmarks[[105, 334], 1].mean()), float(landmarks[152, 1])
    size = max(x1 - x0, y1 - y0)
    if size < 16:
        return None
    h, w = frame.shape[:2]
    cx0, cy0 = int(max(x0 - size, 0)), int(max(y0 - size, 0))
    cx1, cy1 = int(min(x1 + size, w)), int(min(y1 + size, h))
    if cx1 - cx0 < 16 or cy1 - cy0 < 16:
        return None
    scale = min(1.0, 200.0 / size)
    crop = cv2.resize(np.ascontiguousarray(frame[cy0:cy1, cx0:cx1]), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_AREA)
    box = ((x0 - cx0) * scale, (y0 - cy0) * scale, (x1 - cx0) * scale, (y1 - cy0) * scale)
    return identity.embedding(crop, box)


def skin_points() -> np.ndarray:
    """Mesh points on skin: not lips, eyes, irises or brows, whose colour changes with expression."""
    import mediapipe as mp

    fm = mp.solutions.face_mesh
    moving = {i for edges in (fm.FACEMESH_LIPS, fm.FACEMESH_LEFT_EYE, fm.FACEMESH_RIGHT_EYE,
                              fm.FACEMESH_LEFT_EYEBROW, fm.FACEMESH_RIGHT_EYEBROW) for e in edges for i in e}
    return np.array([i for i in range(468) if i not in moving], np.int32)


def sample_colours(frame: np.ndarray, landmarks: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Lab colour at each point of the face shrunk to ~96 px wide (the shrinking averages pixels, so one
    noisy pixel does not decide), float32 (len(points), 3); NaN where a point is off-frame."""
    h, w = frame.shape[:2]
    xy = landmarks[points, :2].astype(np.float64)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    out = np.full((len(points), 3), np.nan, np.float32)
    if not inside.any():
        return out
    x0, y0 = np.floor(xy[inside].min(axis=0)).astype(int)
    x1, y1 = np.ceil(xy[inside].max(axis=0)).astype(int) + 1
    scale = min(1.0, 96.0 / max(x1 - x0, 1))
    crop = frame[y0:y1, x0:x1]
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(cv2.blur(crop, (3, 3)), cv2.COLOR_BGR2LAB).astype(np.float32)
    px = np.clip(((xy[inside] - (x0, y0)) * scale).astype(int), 0, (lab.shape[1] - 1, lab.shape[0] - 1))
    out[inside] = lab[px[:, 1], px[:, 0]]
    return out


def occlusion(colours: np.ndarray) -> np.ndarray:
    """(n,) share of skin points whose colour departs from their own median over the track, after the
    frame's overall shift is removed (a light change moves every point; a mic or hair moves a patch).
    Each point's tolerance scales with its own usual variation (points at the jaw line or in a shadow
    vary more). Skin-coloured occluders (a hand) are mostly missed: colour alone cannot see them."""
    ref = np.nanmedian(colours, axis=0)
    delta = colours - ref
    shift = np.nanmedian(delta, axis=1, keepdims=True)
    dev = np.linalg.norm((delta - shift) * np.array([0.5, 1.0, 1.0], np.float32), axis=2)
    usual = 1.4826 * np.nanmedian(dev, axis=0)
    covered = ~(dev <= np.maximum(OCCLUDED_DEV, OCCLUDED_SPREAD * usual))  # off-frame (NaN) counts as covered
    return covered.mean(axis=1).astype(np.float32)


class HasAnalyzer(Protocol):
    """What analysis needs from EngineContext."""

    @property
    def analyzer(self) -> FaceAnalyzer: ...


def content_key(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(ENGINE_VERSION.encode())
    return digest.hexdigest()[:24]


@dataclass
class TemplateAnalysis:
    key: str
    directory: Path
    info: media.VideoInfo
    tracks: list[FaceTrack]
    cuts: list[int] = dataclasses.field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self.info),
            "key": self.key,
            "engine_version": ENGINE_VERSION,
            "cuts": list(self.cuts),
            "tracks": [
                {
                    "id": t.id,
                    "start": t.start,
                    "end": t.end,
                    "frames": len(t.frames),
                    "mean_box": [round(float(v), 1) for v in (t.boxes[:, 2:] - t.boxes[:, :2]).mean(axis=0)],
                    "thumbnail": f"track_{t.id}.jpg",
                    "spans": [list(span) for span in t.spans()],
                    **_track_stats(t),
                }
                for t in self.tracks
            ],
        }

    def track(self, track_id: int) -> FaceTrack:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise BadInput("This person is no longer available in the ad. Please pick another one.",
                       "no_such_track")

    def default_track_id(self) -> int:
        return self.tracks[0].id

    @classmethod
    def load(cls, directory: Path) -> TemplateAnalysis:
        meta = json.loads((directory / "analysis.json").read_text())
        info = media.VideoInfo(**{f.name: meta["info"][f.name] for f in dataclasses.fields(media.VideoInfo)})
        tracks = []
        with np.load(directory / "tracks.npz") as npz:
            for t in meta["tracks"]:
                n = t["id"]
                extra = {name: npz[f"{name}_{n}"] for name in ("pose", "occlusion", "segment_starts")
                         if f"{name}_{n}" in npz}
                tracks.append(FaceTrack(n, npz[f"frames_{n}"], npz[f"landmarks_{n}"], npz[f"boxes_{n}"],
                                        max_gap=int(meta["max_gap"]), **extra))
        return cls(meta["key"], directory, info, tracks, [int(c) for c in meta.get("cuts", [])])


def _thumbnail(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A square crop around the face with some context, so an admin recognises who it is."""
    h, w = frame.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = 0.8 * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    x1, y1 = int(min(cx + half, w)), int(min(cy + half, h))
    crop = frame[y0:y1, x0:x1]
    scale = THUMB_PX / max(crop.shape[:2])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)


def _write_thumbnails(clip: Path, info: media.VideoInfo, tracks: list[FaceTrack], folder: Path) -> None:
    """Second, partial decode: keeping frames from the first pass would hold the clip in memory."""
    wanted: dict[int, list[FaceTrack]] = {}
    for t in tracks:
        wanted.setdefault(int(t.frames[len(t.frames) // 2]), []).append(t)
    last = max(wanted)
    with media.FrameReader(clip, info) as reader:
        for index, frame in enumerate(reader):
            for t in wanted.get(index, []):
                row = int(np.searchsorted(t.frames, index))
                media.encode_jpeg(_thumbnail(frame, t.boxes[row]), folder / f"track_{t.id}.jpg")
            if index >= last:
                break


def _save(folder: Path, analysis: TemplateAnalysis, max_gap: int) -> None:
    arrays: dict[str, np.ndarray] = {}
    for t in analysis.tracks:
        arrays[f"frames_{t.id}"] = t.frames
        arrays[f"landmarks_{t.id}"] = t.landmarks
        arrays[f"boxes_{t.id}"] = t.boxes
        for name in ("pose", "occlusion", "segment_starts"):
            value = getattr(t, name)
            if value is not None:
                arrays[f"{name}_{t.id}"] = value
    np.savez_compressed(folder / "tracks.npz", **arrays)
    meta = {"key": analysis.key, "engine_version": ENGINE_VERSION, "max_gap": max_gap,
            "info": dataclasses.asdict(analysis.info), "cuts": analysis.cuts,
            "tracks": analysis.summary()["tracks"]}
    (folder / "analysis.json").write_text(json.dumps(meta, indent=1))


def _embed_fragments(clip: Path, info: media.VideoInfo, fragments: list[Fragment]) -> list[np.ndarray | None]:
    """Mean face embedding of each fragment long enough to matter, from up to EMBED_SAMPLES frames, in a
    partial decode that stops at the last frame needed. Costs ~0.12 s per sample on this CPU."""
    wanted: dict[int, list[tuple[int, int]]] = {}
    for k, frag in enumerate(fragments):
        if len(frag.frames) < MIN_TRACK_FRAMES:
            continue
        rows = np.unique(np.linspace(0, len(frag.frames) - 1, EMBED_SAMPLES + 2).round().astype(int)[1:-1])
        for row in rows:
            wanted.setdefault(frag.frames[row], []).append((k, int(row)))
    found: list[list[np.ndarray]] = [[] for _ in fragments]
    if wanted:
        identity = FaceIdentity()
        with media.FrameReader(clip, info) as reader:
            for index, frame in enumerate(reader):
                for k, row in wanted.get(index, []):
                    emb = face_embedding(identity, frame, fragments[k].faces[row].landmarks)
                    if emb is not None:
                        found[k].append(emb)
                if index >= max(wanted):
                    break
    return [np.mean(f, axis=0) if f else None for f in found]


def _finish_track(track: FaceTrack, colours: list[list[np.ndarray]], info: media.VideoInfo, cuts: list[int]) -> None:
    """Smoothed landmarks, head pose and occlusion for one track, in place."""
    assert track.detections is not None
    track.landmarks = smoothing.smooth_landmarks(track.frames, track.landmarks, info.fps, cuts)
    track.pose = pose.head_pose(track.landmarks, info.width, info.height)
    samples = np.stack([colours[f][d] for f, d in zip(track.frames, track.detections, strict=True)])
    track.occlusion = occlusion(samples)
    track.detections = None


def analyse_template(
    clip: Path, cache_root: Path, ctx: HasAnalyzer, progress: ProgressCallback | None = None,
    max_gap: int = 5,
) -> TemplateAnalysis:
    """Load the cached analysis of this exact file, or decode it once and build the face tracks."""
    key = content_key(clip)
    directory = Path(cache_root) / key
    if (directory / "analysis.json").exists():
        return TemplateAnalysis.load(directory)
    report = Progress(progress, {"analyse": (0.0, 1.0)})
    report.report("analyse", 0.0)
    info = media.probe(clip)
    per_frame: list[list[Face]] = []
    colours: list[list[np.ndarray]] = []
    cuts: list[int] = []
    skin = skin_points()
    detector = CutDetector()
    session = ctx.analyzer.video_session(max_faces=4)
    try:
        with media.FrameReader(clip, info) as reader:
            for index, frame in enumerate(reader):
                if detector.is_cut(frame):
                    cuts.append(index)
                    session.close()  # the tracker would carry the last shot's faces into the new one
                    session = ctx.analyzer.video_session(max_faces=4)
                faces = session.process(frame)
                per_frame.append(faces)
                colours.append([sample_colours(frame, f.landmarks, skin) for f in faces])
                report.report("analyse", 0.85 * (index + 1) / max(info.frame_count, 1))
    finally:
        session.close()
    fragments = link(per_frame, max_gap, cuts)
    candidates = [f for f in fragments if len(f.frames) >= MIN_TRACK_FRAMES]
    embeddings = _embed_fragments(clip, info, fragments) if len(candidates) >= 2 else None
    report.report("analyse", 0.92)
    tracks = merge(fragments, len(per_frame), embeddings, max_gap)
    if not tracks:
        raise BadInput("No face could be followed in this clip. Please upload a clip where a person's face "
                       "is clearly visible for most of the time.", "no_face_in_clip")
    for t in tracks:
        _finish_track(t, colours, info, cuts)
    Path(cache_root).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache_root))
    try:
        _save(staging, TemplateAnalysis(key, staging, info, tracks, cuts), max_gap)
        _write_thumbnails(clip, info, tracks, staging)
        try:
            os.rename(staging, directory)
        except OSError:
            if not (directory / "analysis.json").exists():  # not a concurrent twin that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.report("analyse", 1.0)
    result = TemplateAnalysis.load(directory)
    if len(result.tracks) != len(tracks):
        raise EngineError(f"cache {directory} does not match the analysis just made")
    return result
