"""`python -m evals.expression_eval [--quick] [--write]`: does the fan's face act the template's expression?

Each dev template is cut to the same window evals.evaluate uses (its main, or chosen, person on screen), every
selfie is rendered onto it with the real render pipeline, and dlib's 68 points are read, in a box from the
template's known mesh, on the template, the output and a CRF-28 re-encode of the template (the ceiling a
perfect swap could reach). expression_signals.py defines the signals and the per-pair targets; the report
lists each pair's misses, and one contact sheet per template shows its extreme frames, template beside
output, for every selfie.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from evals import evaluate
from evals import expression_signals as es
from swapengine import media
from swapengine.errors import BadInput, EngineError
from swapengine.faces.analysis import face_embedding
from swapengine.faces.detect import analyse_selfie, load_image
from swapengine.faces.identity import SAME_PERSON, FaceIdentity
from swapengine.media.argv import base
from swapengine.media.runner import run
from swapengine.pipeline.context import EngineContext
from swapengine.pipeline.render import RenderRequest, render
from swapengine.provenance.label import Label

SELFIES = ("s01_fr_biden2.jpg", "s04_fr_rose_leslie.jpg", "s10_if_attr1423.jpg", "s12_if_happy.png",
           "s15_lp_d8.jpg", "s19_hallo_3_bw.jpg")
"""Smiling (s01), broad smile (s12), grimace with glasses (s15), black-and-white (s19), two neutral women."""
QUICK_SELFIES = ("s12_if_happy.png", "s19_hallo_3_bw.jpg")
QUICK_TEMPLATES = evaluate.QUICK_TEMPLATES
TILE = 200
SHEET_MAX_BYTES = 400_000


@dataclass
class Prepared:
    """A template window with its dlib signals, measured once and shared by every selfie."""

    window: evaluate.Template
    frames: np.ndarray
    """Sampled window frames where the track has a face and dlib read template and ceiling."""
    meshes: np.ndarray
    template: np.ndarray
    ceiling: np.ndarray
    extremes: dict[str, int]
    """Extreme name -> window frame index."""
    tiles: dict[str, np.ndarray]
    identity_frames: list[int]
    embeddings: dict[int, np.ndarray | None] = field(default_factory=dict)


def ceiling_argv(src: Path, out: Path) -> list[str]:
    """The template window re-encoded at CRF 28: what coding alone does to the signals."""
    return [*base(overwrite=True), "-i", str(src), "-map", "0:v:0", "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "28", "-pix_fmt", "yuv420p", str(out)]


def read_signals(video: Path, wanted: dict[int, np.ndarray], landmarker: es.Landmarker68,
                 keep: frozenset[int] | set[int] = frozenset(), info: media.VideoInfo | None = None,
                 ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Signals at the wanted frames (index -> mesh for the box), and the frames themselves for `keep`."""
    found: dict[int, np.ndarray] = {}
    kept: dict[int, np.ndarray] = {}
    last = max(wanted) if wanted else -1
    with media.FrameReader(video, info or media.probe(video)) as reader:
        for index, frame in enumerate(reader):
            if index in wanted:
                pts = landmarker.points(frame, wanted[index])
                if pts is not None:
                    found[index] = es.signals(pts)
                if index in keep:
                    kept[index] = frame.copy()
            if index >= last:
                break
    return found, kept


def prepare(path: Path, work: Path, cache: Path, ctx: EngineContext, frames: int, samples: int,
            id_samples: int, identity: FaceIdentity, landmarker: es.Landmarker68) -> Prepared:
    """Window (evaluate.prepare_template), ceiling encode, template signals on every tracked frame (to find
    the extremes), then `samples` evenly spaced frames plus the extremes."""
    window = evaluate.prepare_template(path, work, cache, ctx, frames)
    track = window.analysis.track(window.track_id)
    meshes = {int(f): track.landmarks[i] for i, f in enumerate(track.frames)}
    ceiling = work / f"{path.stem}.crf28.mp4"
    run(ceiling_argv(window.clip, ceiling), timeout=600)
    tpl_all, _ = read_signals(window.clip, meshes, landmarker, info=window.analysis.info)
    order = sorted(tpl_all)
    if len(order) < 3:
        raise EngineError(f"dlib read the template face on only {len(order)} frames")
    series = np.array([tpl_all[i] for i in order])
    extremes = {k: order[r] for k, r in es.extremes(series).items()}
    picks = {order[int(i)] for i in np.linspace(0, len(order) - 1, min(samples, len(order))).round()}
    picks |= set(extremes.values())
    ceil, _ = read_signals(ceiling, {i: meshes[i] for i in picks}, landmarker)
    chosen = np.array(sorted(i for i in picks if i in ceil), int)
    _, kept = read_signals(window.clip, {i: meshes[i] for i in extremes.values()}, landmarker,
                           keep=set(extremes.values()), info=window.analysis.info)
    tiles = {k: crop_tile(kept[i], meshes[i]) for k, i in extremes.items()}
    id_frames = [int(chosen[int(i)]) for i in np.unique(np.linspace(0, len(chosen) - 1, min(id_samples,
                                                                                            len(chosen))).round())]
    prep = Prepared(window, chosen, np.array([meshes[i] for i in chosen]), np.array([tpl_all[i] for i in chosen]),
                    np.array([ceil[i] for i in chosen]), extremes, tiles, id_frames)
    _, id_kept = read_signals(window.clip, {i: meshes[i] for i in id_frames}, landmarker, keep=set(id_frames),
                              info=window.analysis.info)
    for i in id_frames:
        prep.embeddings[i] = face_embedding(identity, id_kept[i], meshes[i])
    return prep


def ceiling_stats(prep: Prepared) -> dict[str, Any]:
    per = es.compare(prep.ceiling, prep.template)
    return {"expression_correlation": _r(es.expression_correlation(per)),
            "signals": {k: {m: _r(v) for m, v in row.items()} for k, row in per.items()}}


def measure_pair(prep: Prepared, selfie_path: Path, work: Path, ctx: EngineContext, identity: FaceIdentity,
                 landmarker: es.Landmarker68) -> dict[str, Any]:
    """Render one selfie onto the window, then compare the output's signals with the template's."""
    tpl = prep.window
    out = work / f"{tpl.clip.stem}.{selfie_path.stem}.mp4"
    selfie = analyse_selfie(load_image(selfie_path), ctx.analyzer)
    selfie_pts = landmarker.points(selfie.image, selfie.landmarks)
    selfie_sig = es.signals(selfie_pts) if selfie_pts is not None else None
    selfie_emb = face_embedding(identity, selfie.image, selfie.landmarks)
    req = RenderRequest(clip=tpl.clip, analysis=tpl.analysis, track_id=tpl.track_id, selfie=selfie_path,
                        out_video=out, out_poster=out.with_suffix(".jpg"), render_id="expression-eval",
                        label=Label())
    result = render(req, ctx)
    wanted = {int(f): m for f, m in zip(prep.frames, prep.meshes, strict=True)}
    keep = set(prep.extremes.values()) | set(prep.identity_frames)
    found, kept = read_signals(out, wanted, landmarker, keep=keep)
    rows = [k for k, f in enumerate(prep.frames) if int(f) in found]
    output = np.array([found[int(prep.frames[k])] for k in rows]).reshape(-1, len(es.SIGNALS))
    per = es.compare(output, prep.template[rows], selfie_sig)
    ds, do = [], []
    for i in prep.identity_frames:
        emb, orig = face_embedding(identity, kept[i], wanted[i]) if i in kept else None, prep.embeddings.get(i)
        if emb is not None and orig is not None and selfie_emb is not None:
            ds.append(identity.distance(emb, selfie_emb))
            do.append(identity.distance(emb, orig))
    leaks = [per[s]["leak"] for s in es.EXPRESSION if np.isfinite(per[s].get("leak", np.nan))]
    pair: dict[str, Any] = {
        "template": tpl.name, "selfie": selfie_path.name, "frames_sampled": len(rows),
        "render_fps": round(result.frames / max(result.seconds, 1e-9), 1),
        "expression_correlation": _r(es.expression_correlation(per)),
        "signals": {k: {m: _r(v) for m, v in row.items()} for k, row in per.items()},
        "mean_leak": _r(float(np.mean(leaks))) if leaks else None,
        "identity_frames": len(ds),
        "identity_same_share": _r(float((np.array(ds) < SAME_PERSON).mean())) if ds else None,
        "closer_to_selfie_share": _r(float((np.array(ds) < np.array(do)).mean())) if ds else None,
        "identity_to_selfie": _r(float(np.mean(ds))) if ds else None,
    }
    ceiling = es.expression_correlation(es.compare(prep.ceiling, prep.template))
    pair["misses"] = es.misses(_nan_for_none(pair), ceiling)
    pair["_tiles"] = {"selfie": crop_tile(selfie.image, selfie.landmarks),
                      **{k: crop_tile(kept[i], wanted[i]) for k, i in prep.extremes.items() if i in kept}}
    return pair


def _nan_for_none(pair: dict[str, Any]) -> dict[str, Any]:
    sig = {k: {m: (np.nan if v is None else v) for m, v in row.items()} for k, row in pair["signals"].items()}
    corr = pair["expression_correlation"]
    return {**pair, "signals": sig, "expression_correlation": np.nan if corr is None else corr}


def _r(value: Any) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


def crop_tile(frame: np.ndarray, mesh: np.ndarray, size: int = TILE) -> np.ndarray:
    """A square crop around the face the mesh outlines, `size` px wide (evaluate.face_tile's framing)."""
    import cv2

    pts = mesh[:, :2]
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.65 * max(x1 - x0, y1 - y0)
    s = size / (2 * half)
    m = np.array([[s, 0, size / 2 - cx * s], [0, s, size / 2 - cy * s]])
    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)


def _label(tile: np.ndarray, text: str, colour: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    import cv2

    tile = tile.copy()
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 15), (0, 0, 0), -1)
    cv2.putText(tile, text[:34], (3, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.36, colour, 1, cv2.LINE_AA)
    return tile


def contact_sheet(prep: Prepared, pairs: list[dict[str, Any]], path: Path) -> Path:
    """One JPEG per template: a row per selfie, [selfie | template, output at each extreme]; the selfie tile
    names the pair's expression correlation and how many targets it misses (red when any)."""
    import cv2

    blank = np.full((TILE, TILE, 3), 40, np.uint8)
    rows = []
    for p in pairs:
        tiles = p.get("_tiles", {})
        n_miss = len(p.get("misses", []))
        head = f"{p['selfie'][:12]} r={p.get('expression_correlation')} m={n_miss}" if "error" not in p \
            else f"{p['selfie'][:12]} failed"
        row = [_label(tiles.get("selfie", blank), head, (80, 80, 255) if n_miss or "error" in p else (255, 255, 255))]
        for k, frame in prep.extremes.items():
            row += [_label(prep.tiles[k], f"T {k} f{frame}"), _label(tiles.get(k, blank), "output")]
        rows.append(np.hstack(row))
    sheet = np.vstack(rows) if rows else blank
    quality, scale = 85, 1.0
    while True:
        img = sheet if scale == 1.0 else cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if path.stat().st_size <= SHEET_MAX_BYTES or scale < 0.3:
            return path
        if quality > 65:
            quality -= 10
        else:
            scale *= 0.85


MEASURED = """## What is measured

`python -m evals.expression_eval` (evals/expression_eval.py, signals in evals/expression_signals.py) renders
each dev template window (the one evals.evaluate uses; templates_multi/m01 with its chosen person) with each
selfie through the real render pipeline. On up to 40 evenly spaced frames where the chosen track has a face
(plus the template's extreme frames), dlib's 68-point predictor reads template, output and a CRF-28 libx264
re-encode of the template (the ceiling), in a box from the template's known mediapipe mesh (cheek to cheek,
brows to chin), so no dlib detection runs. Signals, in the eye frame (head roll removed), over the face's own
inter-ocular distance (outer eye corners):

- **brow**: brow points above the eye-corner midpoint; **eye**: upper-to-lower lid gap;
  **width**: mouth corner to corner; **lift**: mouth corners above the lip centre line (midway between the
  inner upper and lower lip centres), up positive; **lips**: inner-lip gap.
- **correlation**: Pearson r, output vs template, over the sampled frames. **Expression correlation** is the
  mean r of brow, eye, width and lift (a signal that does not move counts 0).
- **spread**: (p95 - p5) of the output's series over the template's: 1 = full amplitude, 0 = frozen.
- **leak**: mean(output - template) / (selfie - mean(template)), with the selfie read by the same predictor
  on its own photo; 0 = the output follows the template, 1 = it keeps the selfie's value. Reported only
  where the selfie differs from the template's mean by >= 0.03; it also counts a lasting difference in face
  shape between fan and template person, so read it beside the sheets. **mean leak** averages the
  expression signals that qualify.
- **identity**: dlib descriptor of the output (box from the template mesh) on 12 of those frames: share
  within 0.6 of the selfie, and share closer to the selfie than to the template's original face.

Targets per pair (issue #11): expression correlation >= 0.9 x the ceiling's; brow, width, lift spread
0.7-1.3; lips correlation >= 0.8 and spread 0.7-1.3; identity < 0.6 on >= 80%, closer to the fan on >= 95%.
Contact sheets (docs/eval/expression/<template>.jpg): per selfie row, the selfie, then template | output at
the template's most raised brows, most shut eyes, widest smile (width + lift) and widest-open mouth.
"""


def _cell(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def markdown(report: dict[str, Any]) -> str:
    """The dated results block (ceilings, then one row per pair with its misses) and what is measured."""
    lines = ["# Expression transfer (issue #11)", "", f"## Results, {report['date']}", "",
             f"`{report['command']}` ({report['seconds']} s)", "",
             "Ceiling (CRF-28 re-encode vs template): correlation per signal", "",
             "| template | frames | expr r | " + " | ".join(es.SIGNALS) + " |", "|---|---:|---:|" + "---:|" * 5]
    for name, c in report["ceilings"].items():
        if "error" in c:
            lines.append(f"| {name} | failed: {c['error'][:80]} |")
            continue
        cells = " | ".join(_cell(c["signals"][s]["correlation"]) for s in es.SIGNALS)
        lines.append(f"| {name} | {c['frames_sampled']} | {_cell(c['expression_correlation'])} | {cells} |")
    lines += ["", "Pairs: correlation / spread per signal; misses name each target the pair fails", "",
              "| template | selfie | expr r | ceil | " + " | ".join(es.SIGNALS)
              + " | leak | id<0.6 | closer | misses |", "|---|---|---:|---:|" + "---|" * 5 + "---:|---:|---:|---|"]
    for p in report["pairs"]:
        if "error" in p:
            lines.append(f"| {p['template']} | {p['selfie']} | failed: {p['error'][:100]} |")
            continue
        ceil = report["ceilings"][p["template"]]["expression_correlation"]
        cells = " | ".join(f"{_cell(p['signals'][s]['correlation'])} / {_cell(p['signals'][s]['spread_ratio'])}"
                           for s in es.SIGNALS)
        lines.append(f"| {p['template']} | {p['selfie']} | {_cell(p['expression_correlation'])} | {_cell(ceil)} "
                     f"| {cells} | {_cell(p['mean_leak'])} | {_cell(p['identity_same_share'])} "
                     f"| {_cell(p['closer_to_selfie_share'])} | {'; '.join(p['misses']) or 'none'} |")
    ok = [p for p in report["pairs"] if "error" not in p]
    if ok:
        lines += ["", f"{sum(not p['misses'] for p in ok)}/{len(report['pairs'])} pairs meet every target."]
        for key in ("expression corr", "brow spread", "width spread", "lift spread", "lips corr", "lips spread",
                    "identity", "closer"):
            lines.append(f"- {key}: missed by {sum(any(m.startswith(key) for m in p['misses']) for p in ok)}")
    return "\n".join(lines) + "\n\n" + MEASURED


def _write(out: Path, args: argparse.Namespace, argv: Sequence[str] | None, started: float,
           ceilings: dict[str, Any], sheets: list[str], pairs: list[dict[str, Any]]) -> str:
    """JSON and Markdown of what is measured so far: rewritten after every template, so a long run that is
    stopped still leaves its finished templates."""
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m evals.expression_eval " + " ".join(argv if argv is not None else sys.argv[1:]),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "seconds": round(time.perf_counter() - started, 1),
        "ceilings": ceilings, "sheets": sheets, "pairs": pairs,
    }
    text = markdown(report)
    name = "expression_quick" if args.quick else "expression"
    (out / f"{name}.json").write_text(json.dumps(report, indent=1))
    (out / f"{name}.md").write_text(text)
    print(f"wrote {out / f'{name}.json'} after {report['seconds']} s", file=sys.stderr, flush=True)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.expression_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=evaluate.MEDIA)
    parser.add_argument("--out", type=Path, default=None,
                        help="where report and sheets go (default: docs/eval with --write, else var/expression-eval)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "swapengine-eval")
    parser.add_argument("--frames", type=int, default=150, help="window length per template (frames)")
    parser.add_argument("--samples", type=int, default=40, help="evenly spaced frames measured per pair")
    parser.add_argument("--id-samples", type=int, default=12, help="of those, frames for the dlib identity")
    parser.add_argument("--selfie", action="append", default=None, help="selfie file name (repeatable)")
    parser.add_argument("--template", action="append", default=None, help="template file name (repeatable)")
    parser.add_argument("--quick", action="store_true", help="3 templates x 2 selfies, 75-frame windows")
    parser.add_argument("--write", action="store_true", help="write docs/eval/expression{,_quick}.md/.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.selfie = args.selfie or list(QUICK_SELFIES)
        args.template = args.template or list(QUICK_TEMPLATES)
        args.frames = min(args.frames, 75)
    names = args.selfie or list(SELFIES)
    selfies = [args.media / "selfies" / n for n in names if (args.media / "selfies" / n).exists()]
    templates = sorted(p for d in evaluate.TEMPLATE_DIRS for p in (args.media / d).glob("*.mp4")
                       if not args.template or p.name in args.template)
    if not selfies or not templates:
        sys.stderr.write(f"no selfies or templates under {args.media}: nothing to evaluate\n")
        return 0
    out = args.out or (evaluate.REPO / ("docs/eval" if args.write else "var/expression-eval"))
    sheet_dir = out / ("expression_quick" if args.quick else "expression")
    sheet_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    identity, landmarker = FaceIdentity(), es.Landmarker68()
    pairs: list[dict[str, Any]] = []
    ceilings: dict[str, Any] = {}
    sheets: list[str] = []
    text = ""
    with tempfile.TemporaryDirectory(prefix="expreval.") as tmp, EngineContext(args.cache) as ctx:
        for template in templates:
            try:
                prep = prepare(template, Path(tmp), args.cache, ctx, args.frames, args.samples, args.id_samples,
                               identity, landmarker)
            except (BadInput, EngineError) as exc:
                ceilings[template.name] = {"error": str(exc)[:300]}
                continue
            ceilings[template.name] = {**ceiling_stats(prep), "window_start": prep.window.window_start,
                                       "frames_sampled": len(prep.frames),
                                       "extremes": {k: int(v) for k, v in prep.extremes.items()}}
            done: list[dict[str, Any]] = []
            for selfie in selfies:
                try:
                    pair = measure_pair(prep, selfie, Path(tmp), ctx, identity, landmarker)
                except (BadInput, EngineError) as exc:
                    pair = {"template": template.name, "selfie": selfie.name, "error": str(exc)[:300]}
                done.append(pair)
                shown = {k: pair.get(k) for k in ("expression_correlation", "mean_leak", "identity_same_share",
                                                  "misses", "error") if k in pair}
                print(f"{template.name} x {selfie.name}: {shown}", file=sys.stderr, flush=True)
            sheet = contact_sheet(prep, done, sheet_dir / f"{template.stem}.jpg")
            sheets.append(str(sheet.relative_to(out)))
            pairs += [{k: v for k, v in p.items() if not k.startswith("_")} for p in done]
            text = _write(out, args, argv, started, ceilings, sheets, pairs)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
