"""Template analysis: face tracks of a clip, computed once and cached by content and engine version.

Every render of a template reuses the cache, so a fan's render never runs the clip-wide face pass.
The cache directory appears complete or not at all (written aside, then renamed into place).
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

from swapengine import ENGINE_VERSION, media
from swapengine.errors import BadInput, EngineError
from swapengine.faces import Face, FaceAnalyzer
from swapengine.progress import Progress, ProgressCallback
from swapengine.tracks import FaceTrack, build_tracks

THUMB_PX = 160


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

    def summary(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self.info),
            "key": self.key,
            "engine_version": ENGINE_VERSION,
            "tracks": [
                {
                    "id": t.id,
                    "start": t.start,
                    "end": t.end,
                    "frames": len(t.frames),
                    "mean_box": [round(float(v), 1) for v in (t.boxes[:, 2:] - t.boxes[:, :2]).mean(axis=0)],
                    "thumbnail": f"track_{t.id}.jpg",
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
                tracks.append(FaceTrack(n, npz[f"frames_{n}"], npz[f"landmarks_{n}"], npz[f"boxes_{n}"],
                                        max_gap=int(meta["max_gap"])))
        return cls(meta["key"], directory, info, tracks)


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


def _save(folder: Path, key: str, info: media.VideoInfo, tracks: list[FaceTrack], max_gap: int) -> None:
    arrays: dict[str, np.ndarray] = {}
    for t in tracks:
        arrays[f"frames_{t.id}"] = t.frames
        arrays[f"landmarks_{t.id}"] = t.landmarks
        arrays[f"boxes_{t.id}"] = t.boxes
    np.savez_compressed(folder / "tracks.npz", **arrays)
    analysis = TemplateAnalysis(key, folder, info, tracks)
    meta = {"key": key, "engine_version": ENGINE_VERSION, "max_gap": max_gap,
            "info": dataclasses.asdict(info), "tracks": analysis.summary()["tracks"]}
    (folder / "analysis.json").write_text(json.dumps(meta, indent=1))


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
    with media.FrameReader(clip, info) as reader, ctx.analyzer.video_session(max_faces=4) as session:
        for index, frame in enumerate(reader):
            per_frame.append(session.process(frame))
            report.report("analyse", 0.95 * (index + 1) / max(info.frame_count, 1))
    tracks = build_tracks(per_frame, max_gap=max_gap)
    if not tracks:
        raise BadInput("No face could be followed in this clip. Please upload a clip where a person's face "
                       "is clearly visible for most of the time.", "no_face_in_clip")
    Path(cache_root).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache_root))
    try:
        _save(staging, key, info, tracks, max_gap)
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
