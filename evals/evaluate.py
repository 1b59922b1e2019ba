"""`python -m evals.evaluate`: measured swap quality over every selfie x template pair of the dev set.

Each template is cut to a short window where its main face is on screen (chosen from the full clip's
analysis, so multi-person clips get a window with the other people in it); every selfie is rendered onto
that window with the real render pipeline; then template and output are decoded in lockstep and compared
with the same face mesh (metrics.py). The report (JSON) and a contact sheet (PNG) go to docs/eval/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evals import metrics
from swapengine import media
from swapengine.errors import BadInput, EngineError
from swapengine.faces.analysis import TemplateAnalysis, analyse_template, content_key, face_embedding
from swapengine.faces.detect import analyse_selfie, load_image
from swapengine.faces.identity import SAME_PERSON, FaceIdentity
from swapengine.faces.tracks import FaceTrack
from swapengine.media.argv import base
from swapengine.media.runner import run
from swapengine.pipeline.context import EngineContext
from swapengine.pipeline.render import RenderRequest, render
from swapengine.provenance.label import Label, LabelStamp

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
TEMPLATE_DIRS = ("templates", "templates_multi")
QUICK_SELFIES = ("s04_fr_rose_leslie.jpg", "s06_df_pichai.jpg", "s10_if_attr1423.jpg")
QUICK_TEMPLATES = ("t01_sadtalker_aoc.mp4", "t12_r3d_may.mp4", "m01_fr_short_hamilton.mp4")
MULTI_MIN_FRAMES = 72
"""People in multi-person clips appear in different shots: a window must be long enough to hold two."""
UNCHANGED_MARGIN = 1.0
"""Mean |difference| (0-255) inside another person's face allowed above the coding noise that the same
reader -> writer round trip without any swap leaves there (x264 spends bits differently when the
swapped face changes, so a few levels more are not a change of the person)."""


@dataclass
class Template:
    name: str
    clip: Path
    passthrough: Path
    """The window decoded and encoded by the render's own reader and writer, untouched: coding noise."""
    analysis: TemplateAnalysis
    track_id: int
    window_start: int
    full_analysis_s: float | None
    embeddings: dict[int, np.ndarray | None] = field(default_factory=dict)


def choose_window(analysis: TemplateAnalysis, frames: int, multi: bool) -> int:
    """Start of the window where the main track shows most; for multi-person clips, where the main track
    and the other people both show (geometric mean of their frame counts), so "untouched" is tested."""
    n = analysis.info.frame_count
    if n <= frames:
        return 0
    main, other = np.zeros(n), np.zeros(n)
    for t in analysis.tracks:
        (main if t.id == analysis.default_track_id() else other)[t.frames] = 1.0
    kernel = np.ones(frames)
    main_cov = np.convolve(main, kernel, mode="valid")
    score = np.sqrt(main_cov * np.convolve(other, kernel, mode="valid")) if multi else main_cov
    return int(np.argmax(score if score.max() > 0 else main_cov))


def trim_argv(clip: Path, out: Path, start: int, fps: float, frames: int) -> list[str]:
    """The window as its own clip; the sound is cut to the same length, or the reader's constant-rate
    normalisation would pad the picture to the sound's length."""
    return [
        *base(overwrite=True), "-ss", f"{start / fps:.4f}",
        "-i", str(clip), "-map", "0:v:0", "-map", "0:a:0?", "-frames:v", str(frames),
        "-t", f"{frames / fps:.4f}", "-c:v", "libx264",
        "-preset", "veryfast", "-crf", "14", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out),
    ]


def prepare_template(path: Path, work: Path, cache: Path, ctx: EngineContext, frames: int) -> Template:
    cached = (cache / "full" / content_key(path) / "analysis.json").exists()
    started = time.perf_counter()
    full = analyse_template(path, cache / "full", ctx)
    took = time.perf_counter() - started
    multi = path.parent.name == "templates_multi"
    frames = max(frames, MULTI_MIN_FRAMES) if multi else frames
    start = choose_window(full, frames, multi)
    out = work / f"{path.stem}.window.mp4"
    run(trim_argv(path, out, start, full.info.fps, frames), timeout=3600)
    window = analyse_template(out, cache / "windows", ctx)
    passthrough = work / f"{path.stem}.passthrough.mp4"
    with media.FrameReader(out, window.info) as reader, media.FrameWriter(passthrough, window.info) as writer:
        for frame in reader:
            writer.write(frame)
    return Template(path.name, out, passthrough, window, window.default_track_id(), start,
                    None if cached else took)


def _match(faces: list[Any], box: np.ndarray) -> np.ndarray | None:
    """The detected face that overlaps the track's box most (IoU > 0.3)."""
    best, best_iou = None, 0.3
    for f in faces:
        ix = max(0.0, min(f.box[2], box[2]) - max(f.box[0], box[0]))
        iy = max(0.0, min(f.box[3], box[3]) - max(f.box[1], box[1]))
        inter = ix * iy
        union = (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]) + (box[2] - box[0]) * (box[3] - box[1]) - inter
        if union > 0 and inter / union > best_iou:
            best, best_iou = f.landmarks, inter / union
    return best


def _sheet_frames(tpl: Template, samples: int) -> tuple[list[int], list[int]]:
    track = tpl.analysis.track(tpl.track_id)
    frames = track.frames
    sample = sorted({int(frames[i]) for i in np.linspace(0, len(frames) - 1, min(samples, len(frames))).round()
                     .astype(int)})
    opening = np.array([metrics.lip_opening(lm) for lm in track.landmarks])
    sheet = sorted({int(frames[np.argmin(opening)]), int(frames[len(frames) // 2]), int(frames[np.argmax(opening)])})
    return sample, sheet


def _other_faces(old: np.ndarray, new: np.ndarray, index: int, others: list[FaceTrack],
                 exclude: np.ndarray) -> list[tuple[float, float]]:
    """(mean, max) change inside the central half of every other person's face box in this frame."""
    found = []
    for other in others:
        row = int(np.searchsorted(other.frames, index))
        if row < len(other.frames) and other.frames[row] == index:
            b = other.boxes[row]
            dx, dy = (b[2] - b[0]) / 4, (b[3] - b[1]) / 4
            mean, peak = metrics.box_difference(old, new, np.array([b[0] + dx, b[1] + dy, b[2] - dx, b[3] - dy]),
                                                exclude)
            if not np.isnan(mean):
                found.append((mean, peak))
    return found


def evaluate_pair(tpl: Template, selfie_path: Path, work: Path, ctx: EngineContext, identity: FaceIdentity,
                  samples: int) -> dict[str, Any]:
    """Render one selfie onto one template window and measure it against the template."""
    info = tpl.analysis.info
    out = work / f"{tpl.clip.stem}.{selfie_path.stem}.mp4"
    selfie = analyse_selfie(load_image(selfie_path), ctx.analyzer)
    selfie_emb = face_embedding(identity, selfie.image, selfie.landmarks)
    req = RenderRequest(clip=tpl.clip, analysis=tpl.analysis, track_id=tpl.track_id, selfie=selfie_path,
                        out_video=out, out_poster=out.with_suffix(".jpg"), render_id="eval", label=Label())
    result = render(req, ctx)
    track = tpl.analysis.track(tpl.track_id)
    others = [t for t in tpl.analysis.tracks if t.id != tpl.track_id]
    label_box = LabelStamp(Label(), info.width, info.height).region
    sample, sheet = _sheet_frames(tpl, samples)
    n = info.frame_count
    out_lm = np.full((n, 478, 3), np.nan, np.float32)
    tpl_lm = np.full((n, 478, 3), np.nan, np.float32)
    dist_selfie: list[float] = []
    dist_orig: list[float] = []
    other_mean: list[float] = []
    other_max: list[float] = []
    tiles: list[np.ndarray] = [face_tile(selfie.image, selfie.landmarks)]
    noise: list[float] = []
    with media.FrameReader(tpl.clip, info) as before, media.FrameReader(out, media.probe(out)) as after, \
            media.FrameReader(tpl.passthrough, info) as plain, \
            ctx.analyzer.video_session(4) as s_tpl, ctx.analyzer.video_session(4) as s_out:
        for index, (old, new, same) in enumerate(zip(before, after, plain, strict=True)):
            row = int(np.searchsorted(track.frames, index))
            tracked = row < len(track.frames) and track.frames[row] == index
            found_t, found_o = s_tpl.process(old), s_out.process(new)
            keep_out = np.zeros(old.shape[:2], bool)
            x0, y0, x1, y1 = label_box
            keep_out[y0:y1, x0:x1] = True
            if tracked:
                keep_out |= metrics.face_region(track.landmarks[row], (old.shape[0], old.shape[1]))
            for mean, peak in _other_faces(old, new, index, others, keep_out):
                other_mean.append(mean)
                other_max.append(peak)
            noise += [mean for mean, _ in _other_faces(old, same, index, others, keep_out)]
            if not tracked:
                continue
            lt, lo = _match(found_t, track.boxes[row]), _match(found_o, track.boxes[row])
            if lt is not None and lo is not None:
                tpl_lm[index], out_lm[index] = lt, lo
            if index in sample and lo is not None and selfie_emb is not None:
                if index not in tpl.embeddings:
                    tpl.embeddings[index] = None if lt is None else face_embedding(identity, old, lt)
                emb, orig = face_embedding(identity, new, lo), tpl.embeddings[index]
                if emb is not None and orig is not None:
                    dist_selfie.append(identity.distance(emb, selfie_emb))
                    dist_orig.append(identity.distance(emb, orig))
            if index in sheet:
                tiles += [face_tile(old, track.landmarks[row]), face_tile(new, track.landmarks[row])]
    present = ~np.isnan(out_lm[:, 0, 0]) & ~np.isnan(tpl_lm[:, 0, 0])
    idx = np.flatnonzero(present)
    err = [metrics.landmark_error(out_lm[i], tpl_lm[i]) for i in idx]
    err_mouth = [metrics.landmark_error(out_lm[i], tpl_lm[i], metrics.MOUTH) for i in idx]
    lips_o = np.array([metrics.lip_opening(out_lm[i]) for i in idx])
    lips_t = np.array([metrics.lip_opening(tpl_lm[i]) for i in idx])
    ds, do = np.array(dist_selfie), np.array(dist_orig)
    return {
        "template": tpl.name, "selfie": selfie_path.name, "frames": int(n), "window_start": tpl.window_start,
        "render_fps": round(result.frames / result.seconds, 1), "faces_found": int(present.sum()),
        "identity_to_selfie": _r(ds.mean()) if len(ds) else None,
        "identity_to_original": _r(do.mean()) if len(do) else None,
        "identity_same_share": _r((ds < SAME_PERSON).mean()) if len(ds) else None,
        "closer_to_selfie_share": _r((ds < do).mean()) if len(ds) else None,
        "identity_frames": len(ds),
        "landmark_error": _r(np.mean(err)) if err else None,
        "mouth_error": _r(np.mean(err_mouth)) if err_mouth else None,
        "jitter_ratio": _r(metrics.jitter_ratio(out_lm, tpl_lm, present)),
        "lip_correlation": _r(metrics.correlation(lips_o, lips_t)),
        "lip_range_ratio": _r(metrics.range_ratio(lips_o, lips_t)) if len(idx) > 2 else None,
        "other_faces_mean_diff": _r(np.mean(other_mean)) if other_mean else None,
        "other_faces_max_diff": _r(np.max(other_max)) if other_max else None,
        "other_faces_coding_noise": _r(np.mean(noise)) if noise else None,
        "other_faces_unchanged": bool(np.mean(other_mean) <= np.mean(noise) + UNCHANGED_MARGIN)
        if other_mean and noise else None,
        "_tiles": tiles,
    }


def _r(value: Any) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


def summarise(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Dev-set numbers against the issue's targets; frame shares are weighted by sampled frames."""
    ok = [p for p in pairs if "error" not in p]

    def vals(key: str) -> np.ndarray:
        return np.array([p[key] for p in ok if p.get(key) is not None], np.float64)

    w = np.array([p["identity_frames"] for p in ok if p.get("identity_same_share") is not None], np.float64)
    same, closer = vals("identity_same_share"), vals("closer_to_selfie_share")
    lips_ok = [p for p in ok if p.get("lip_correlation") is not None and p.get("lip_range_ratio") is not None]
    targets = {
        "identity_same_share": (float((same * w).sum() / w.sum()) if w.sum() else None, ">= 0.90"),
        "closer_to_selfie_share": (float((closer * w).sum() / w.sum()) if w.sum() else None, ">= 0.95"),
        "landmark_error_mean": (float(vals("landmark_error").mean()) if len(vals("landmark_error")) else None,
                                "<= 0.05"),
        "mouth_error_mean": (float(vals("mouth_error").mean()) if len(vals("mouth_error")) else None, "<= 0.05"),
        "jitter_ratio_median": (float(np.median(vals("jitter_ratio"))) if len(vals("jitter_ratio")) else None,
                                "<= 1.2"),
        "lip_pairs_passing_share": (
            float(np.mean([p["lip_correlation"] >= 0.8 and 0.7 <= p["lip_range_ratio"] <= 1.3 for p in lips_ok]))
            if lips_ok else None, "share of pairs with corr >= 0.8 and range ratio in [0.7, 1.3]"),
        "lip_correlation_median": (float(np.median(vals("lip_correlation"))) if lips_ok else None, ">= 0.8"),
        "lip_range_ratio_median": (float(np.median(vals("lip_range_ratio"))) if lips_ok else None, "0.7-1.3"),
        "other_faces_unchanged_share": (
            float(np.mean([p["other_faces_unchanged"] for p in ok if p.get("other_faces_unchanged") is not None]))
            if any(p.get("other_faces_unchanged") is not None for p in ok) else None, "== 1.0"),
    }
    return {"pairs": len(pairs), "failed_pairs": len(pairs) - len(ok),
            "targets": {k: {"value": _r(v) if v is not None else None, "target": t} for k, (v, t) in targets.items()}}


def pair_order(selfies: list[Path], templates: list[Path]) -> list[tuple[Path, Path]]:
    """Diagonal order, so --limit N still covers many selfies and many templates."""
    pairs = [(s, t, (i + j) % max(len(selfies), 1), j) for j, t in enumerate(templates) for i, s in enumerate(selfies)]
    return [(s, t) for s, t, _, _ in sorted(pairs, key=lambda p: (p[2], p[3]))]


TILE = 112


def face_tile(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """A square crop around the face, TILE pixels wide: enough to judge seams, cheap in the PNG."""
    import cv2

    pts = landmarks[:, :2]
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.65 * max(x1 - x0, y1 - y0)
    m = np.array([[TILE / (2 * half), 0, TILE / 2 - cx * TILE / (2 * half)],
                  [0, TILE / (2 * half), TILE / 2 - cy * TILE / (2 * half)]])
    return cv2.warpAffine(frame, m, (TILE, TILE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)


def contact_sheet(pairs: list[dict[str, Any]], path: Path, rows: int, max_bytes: int = 2_000_000) -> Path:
    """One row per pair: selfie, then template/output crops at closed-mouth, middle and open-mouth frames.
    Rows are spread over the pairs; a 256-colour palette keeps the PNG small."""
    import cv2
    from PIL import Image

    if not pairs:
        return path
    chosen = [pairs[int(i)] for i in np.unique(np.linspace(0, len(pairs) - 1, min(rows, len(pairs))).round())]
    width = max(len(p["_tiles"]) for p in chosen) * TILE
    strips = []
    for p in chosen:
        strip = np.full((TILE + 14, width, 3), 255, np.uint8)
        for k, tile in enumerate(p["_tiles"]):
            strip[14:, k * TILE:(k + 1) * TILE] = tile
        caption = f"{p['selfie'][:18]} x {p['template'][:22]}  d={p.get('identity_to_selfie')}"
        cv2.putText(strip, caption, (2, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
        strips.append(strip)
    sheet = Image.fromarray(cv2.cvtColor(np.vstack(strips), cv2.COLOR_BGR2RGB))
    scale = 1.0
    while True:
        img = sheet if scale == 1.0 else sheet.resize((int(sheet.width * scale), int(sheet.height * scale)))
        img.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        if path.stat().st_size <= max_bytes or scale < 0.3:
            return path
        scale *= 0.8


def markdown(report: dict[str, Any]) -> str:
    """The summary against targets and one row per template (means over its selfies), for QUALITY.md."""
    lines = ["| measure | value | target |", "|---|---:|---|"]
    lines += [f"| {k} | {v['value']} | {v['target']} |" for k, v in report["summary"]["targets"].items()]
    keys = ("identity_to_selfie", "identity_to_original", "identity_same_share", "closer_to_selfie_share",
            "landmark_error", "mouth_error", "jitter_ratio", "lip_correlation", "lip_range_ratio",
            "other_faces_unchanged")
    lines += ["", "| template | pairs | " + " | ".join(keys) + " |", "|---|---:|" + "---:|" * len(keys)]
    for name in sorted({p["template"] for p in report["pairs"]}):
        rows = [p for p in report["pairs"] if p["template"] == name and "error" not in p]
        cells = []
        for k in keys:
            vals = [float(p[k]) for p in rows if p.get(k) is not None]
            cells.append(f"{np.mean(vals):.3f}" if vals else "-")
        lines.append(f"| {name} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "eval")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "swapengine-eval",
                        help="analysis cache (delete it to time the template analysis again)")
    parser.add_argument("--frames", type=int, default=48, help="consecutive frames rendered per template")
    parser.add_argument("--samples", type=int, default=8, help="frames per pair for the dlib identity check")
    parser.add_argument("--limit", type=int, default=None, help="at most this many pairs")
    parser.add_argument("--selfie", action="append", default=None, help="selfie file name (repeatable)")
    parser.add_argument("--template", action="append", default=None, help="template file name (repeatable)")
    parser.add_argument("--quick", action="store_true", help="3 selfies x 3 templates, 24 frames (< 3 min)")
    parser.add_argument("--sheet-rows", type=int, default=16)
    args = parser.parse_args(argv)
    if args.quick:
        args.selfie = args.selfie or list(QUICK_SELFIES)
        args.template = args.template or list(QUICK_TEMPLATES)
        args.frames, args.samples = min(args.frames, 24), min(args.samples, 4)
    selfies = sorted(p for p in (args.media / "selfies").iterdir() if not args.selfie or p.name in args.selfie)
    templates = sorted(p for d in TEMPLATE_DIRS for p in (args.media / d).glob("*.mp4")
                       if not args.template or p.name in args.template)
    order = pair_order(selfies, templates)[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pairs: list[dict[str, Any]] = []
    prepared: dict[Path, Template] = {}
    identity = FaceIdentity()
    with tempfile.TemporaryDirectory(prefix="swapeval.") as tmp, EngineContext(args.cache) as ctx:
        for selfie, template in order:
            try:
                if template not in prepared:
                    prepared[template] = prepare_template(template, Path(tmp), args.cache, ctx, args.frames)
                pair = evaluate_pair(prepared[template], selfie, Path(tmp), ctx, identity, args.samples)
            except (BadInput, EngineError) as exc:
                pair = {"template": template.name, "selfie": selfie.name, "error": str(exc)[:300]}
            pairs.append(pair)
            shown = {k: v for k, v in pair.items() if not k.startswith("_") and k not in ("template", "selfie")}
            print(f"{template.name} x {selfie.name}: {shown}", file=sys.stderr, flush=True)
    report = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "seconds": round(time.perf_counter() - started, 1),
        "templates": {t.name: {"window_start": t.window_start, "frames": t.analysis.info.frame_count,
                               "full_analysis_seconds": _r(t.full_analysis_s) if t.full_analysis_s else None}
                      for t in prepared.values()},
        "summary": summarise(pairs),
        "pairs": [{k: v for k, v in p.items() if not k.startswith("_")} for p in pairs],
    }
    name = "quick" if args.quick else "report"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1))
    (args.out / f"{name}.md").write_text(markdown(report))
    sheet = contact_sheet([p for p in pairs if "_tiles" in p], args.out / f"{name}.png", args.sheet_rows)
    print(json.dumps(report["summary"], indent=1))
    print(f"wrote {args.out / f'{name}.json'} and {sheet} in {report['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
