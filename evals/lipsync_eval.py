"""Self-dub evaluation: hold out the end of a template, re-animate it from its own audio, compare.

`python -m evals.lipsync_eval [--templates DIR] [--cache DIR] [--holdout 0.2] [--render]` prints a
Markdown table. Lip landmark error is the mean distance between predicted and real lip points divided by the
inter-ocular distance (outer eye corners), against a baseline that always predicts the training mean lip
shape. Opening-envelope correlation: Pearson r between the inner-lip gap and the per-frame audio level
(dB, floored at its 5th percentile) on the held-out frames; the real footage's r is the reference.
With --render the held-out frames are rendered from a bank built on the training frames only, mediapipe
re-detects the lips on them, and their error against the predicted (target) lips shows what the renderer
actually puts on screen.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from swapengine import media
from swapengine.faces.analysis import analyse_template
from swapengine.lips import mouth
from swapengine.lips.lipsync import train_mouth_model
from swapengine.lips.mouth import MouthRenderer
from swapengine.pipeline.context import EngineContext
from swapengine.voice import audiofeat

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "shared" / "media" / "templates"




def _spread(values: np.ndarray) -> float:
    return float(np.percentile(values, 95) - np.percentile(values, 5))


def _corr(opening: np.ndarray, env: np.ndarray) -> float:
    if np.std(opening) < 1e-9 or np.std(env) < 1e-9:
        return 0.0
    return float(np.corrcoef(opening, env)[0, 1])


def self_dub(clip: Path, cache_root: Path, ctx: EngineContext, holdout: float = 0.2, epochs: int = 50,
             seed: int = 0, render: bool = False, block: int | None = None) -> dict[str, Any]:
    """Hold out one contiguous block of the speaker's track (the last by default), train on the rest and
    predict the block from its own audio."""
    analysis = analyse_template(clip, cache_root, ctx)
    track = analysis.track(analysis.default_track_id())
    n_blocks = max(int(round(1 / holdout)), 2)
    block = n_blocks - 1 if block is None else block
    edges = np.linspace(0, len(track.frames), n_blocks + 1).round().astype(int)
    test_rows = np.arange(edges[block], edges[block + 1])
    train_rows = np.setdiff1d(np.arange(len(track.frames)), test_rows)
    train_frames, test_frames = track.frames[train_rows], track.frames[test_rows]
    started = time.monotonic()
    model = train_mouth_model(clip, analysis, track.id, ctx, frames=train_frames, epochs=epochs, seed=seed,
                              save=False)
    train_s = time.monotonic() - started
    samples = audiofeat.clip_samples(clip)
    n = analysis.info.frame_count
    predicted = model.predict(samples, audiofeat.SR, n)[test_frames]
    real_lm = track.landmarks[test_rows]
    real = mouth.lip_shapes(real_lm, model.reference)
    mean_shape = mouth.lip_shapes(track.landmarks[train_rows], model.reference).mean(axis=0)
    env = audiofeat.envelope_db(samples, audiofeat.SR, analysis.info.fps, n)
    env = np.maximum(env, np.percentile(env, 5))[test_frames]
    row: dict[str, Any] = {
        "template": clip.name, "frames": f"{len(train_rows)}/{len(test_rows)}", "train_s": round(train_s, 1),
        "err": float(mouth.frame_error(predicted, real_lm, model.reference).mean()),
        "err_mean": float(mouth.frame_error(np.repeat(mean_shape[None], len(real), 0), real_lm,
                                            model.reference).mean()),
        "r_real": _corr(mouth.opening(real), env), "r_pred": _corr(mouth.opening(predicted), env),
        "open_range": _spread(mouth.opening(predicted)) / max(_spread(mouth.opening(real)), 1e-9),
    }
    if render:
        row.update(_render_check(clip, analysis, track.id, train_frames, test_frames, predicted, ctx))
    return row


def _render_check(clip: Path, analysis: Any, track_id: int, train_frames: np.ndarray, test_frames: np.ndarray,
                  predicted: np.ndarray, ctx: EngineContext) -> dict[str, Any]:
    """Render the held-out frames and measure the lips mediapipe finds on them."""
    started = time.monotonic()
    renderer = MouthRenderer(clip, analysis, track_id, frames=train_frames)
    first = int(test_frames[0])
    shapes = np.repeat(predicted[:1], int(test_frames[-1]) - first + 1, axis=0)
    shapes[test_frames - first] = predicted
    plan = renderer.plan(first, shapes, np.ones(len(shapes)))
    wanted = {int(f): i for i, f in enumerate(test_frames)}
    found, errors = 0, []
    seconds = 0.0
    with media.FrameReader(clip, analysis.info) as reader:
        for index, frame in enumerate(reader):
            if index not in wanted:
                continue
            t = time.monotonic()
            out = renderer.render(frame, index, plan)
            seconds += time.monotonic() - t
            faces = ctx.analyzer.detect_image(out)
            if not faces:
                continue
            found += 1
            lm, real = faces[0].landmarks, renderer.track.landmarks_at(index)
            if real is None:
                continue
            target = mouth.to_frame(predicted[wanted[index]], real, renderer.reference)
            errors.append(np.linalg.norm(lm[list(mouth.LIPS), :2] - target, axis=1).mean() / mouth.inter_ocular(lm))
    return {"render_err": float(np.mean(errors)) if errors else float("nan"),
            "render_ms": round(1000 * seconds / max(len(wanted), 1), 1), "bank_s": round(
                time.monotonic() - started - seconds, 1), "redetected": f"{found}/{len(wanted)}"}


def _average(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = float(np.nanmean([r[key] for r in runs]))
    out["frames"] = f"{len(runs)} folds of {runs[0]['frames']}"
    return out


def _cell(column: str, value: Any) -> str:
    if not isinstance(value, float):
        return str(value)
    digits = 4 if "err" in column else 2 if column.startswith(("r_", "open")) else 1
    return f"{value:.{digits}f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    cols = ["template", "frames", "train_s", "err", "err_mean", "r_real", "r_pred", "open_range"]
    if rows and "render_err" in rows[0]:
        cols += ["render_err", "render_ms", "redetected"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(c, r[c]) for c in cols) + " |")
    errs, means = np.array([r["err"] for r in rows]), np.array([r["err_mean"] for r in rows])
    if len(rows):
        lines.append(f"\nmean err {errs.mean():.4f} vs mean-shape baseline {means.mean():.4f}; model better on "
                     f"{int((errs < means).sum())}/{len(rows)} templates")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES)
    parser.add_argument("--cache", type=Path, default=Path("var/lipsync-eval-cache"))
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--folds", action="store_true", help="hold out every block in turn and average")
    args = parser.parse_args(argv)
    clips = sorted(args.templates.glob("*.mp4")) if args.templates.is_dir() else []
    if not clips:
        sys.stderr.write(f"no templates under {args.templates}: nothing to evaluate\n")
        return 0
    rows = []
    with EngineContext(args.cache) as ctx:
        for clip in clips:
            blocks = range(max(int(round(1 / args.holdout)), 2)) if args.folds else [None]
            runs = [self_dub(clip, args.cache, ctx, args.holdout, args.epochs, render=args.render, block=b)
                    for b in blocks]
            rows.append(_average(runs))
            sys.stderr.write(f"{clip.name}: err {rows[-1]['err']:.4f} mean {rows[-1]['err_mean']:.4f}\n")
    sys.stdout.write(markdown(rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
