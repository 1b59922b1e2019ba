"""How a synthesised line's mouth articulates, per driver, measured on rendered frames (issue 3, "The lips").

A TTS line has no filmed ground truth, but it has phoneme timings, so the rendered mouth can be checked
against what the phonemes ask for. For each template (slot and speaker as in evals.dialogue_eval)
and name, one Piper line ("Happy Diwali, {name}!", converted to the speaker and fitted to the slot) is
rendered into the slot's frames by each driver, the same audio for each: `phonemes`
(swapengine.lips.visemes, what a render uses), the same without the jaw following (swapengine.lips.jaw),
`loudness` (the fallback without timings) and `lip model` (the per-template audio-to-lips net).
mediapipe re-detects the face on every rendered frame, and:

- shut: share of p/b/m whose middle frame's inner-lip gap is in the speaker's own shut range (at most
  their filmed 10th percentile + 15% of their 10th-90th spread);
- gap p/b/m, gap vowels: the mean gap at p/b/m and at open vowels (a, ɑ, æ, ʌ), on the speaker's scale
  (0 = their filmed 3rd percentile, 1 = their 97th);
- round: lip-corner width at spread sounds (i, ɪ, j, e, ɛ, æ) minus at rounded ones (w, u, ʊ, o, ɔ, ʃ,
  ɹ), on the speaker's width scale; above 0, the mouth narrows where it should;
- r: Pearson r between the gap and the line's loudness over the slot; motion: the gap's standard
  deviation over the slot, over the speaker's filmed one;
- jaw r: Pearson r between the nose-tip-to-chin distance and the gap over the slot (a real jaw drops as
  the mouth opens: the speaker's filmed r over the whole track is printed as the reference).

Run: python -m evals.articulation_eval (writes its section of docs/QUALITY.md).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.dialogue_eval import TEMPLATES, machine, pick_slot, read_frames, replace_section, template_clips
from evals.metrics import correlation, lip_opening
from swapengine.faces.analysis import TemplateAnalysis, analyse_template
from swapengine.faces.tracks import FaceTrack
from swapengine.lips import mouth, slotmouth, visemes
from swapengine.lips.lipsync import ease_weights
from swapengine.pipeline.context import EngineContext
from swapengine.voice import audiofeat, slots, speech
from swapengine.voice.slots import SlotAudio, SlotLine

NAMES = ("Priya", "Rahul", "Anjali", "Bablu")
DRIVERS = ("phonemes", "phonemes, no jaw", "loudness", "lip model")
SECTION = "## Dialogue replacement: articulation of a synthesised line"
OPEN_VOWELS = frozenset("aɑæʌ")
SPREAD = frozenset("iɪjeɛæ")
ROUNDED = frozenset("wuʊoɔʃɹ")


@dataclass
class Result:
    template: str
    name: str
    driver: str
    shut: tuple[int, int]
    gap_bilabial: float
    gap_vowel: float
    round: float
    r: float
    motion: float
    jaw_r: float  # Pearson r between the nose-to-chin distance and the inner-lip gap over the slot
    redetected: str


def _scale(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    low, high = np.percentile(reference, [3, 97])
    return (np.asarray(values) - low) / max(float(high - low), 1e-9)


def _frames_of(phonemes: list[tuple[str, float, float, bool]], wanted: frozenset[str], fps: float,
               offset_s: float, n: int) -> np.ndarray:
    """Slot frames at the middle of each phoneme in `wanted` (after merging Piper's stress marks)."""
    picks = [int(((a + b) / 2 - offset_s) * fps) for p, a, b, _ in phonemes if p in wanted]
    return np.array([i for i in picks if 0 <= i < n], np.int64)


@dataclass
class Filmed:
    """The speaker's own mouth in the clip, per inter-ocular distance: the scales the measures use."""

    gap: np.ndarray  # inner-lip gap on every frame of the track
    width: np.ndarray  # lip-corner width on every frame of the track
    speaking_gap: np.ndarray  # the gap on frames where the clip's sound is within 30 dB of its loudest
    jaw_r: float  # the filmed r between nose-to-chin distance and gap, over the whole track


def _gap_width(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Inner-lip gap, lip-corner width and nose-tip-to-chin distance, over the inter-ocular distance."""
    iod = mouth.inter_ocular(landmarks)
    return (lip_opening(landmarks), float(np.linalg.norm(landmarks[61, :2] - landmarks[291, :2])) / iod,
            float(np.linalg.norm(landmarks[4, :2] - landmarks[152, :2])) / iod)


def filmed_mouth(clip: Path, track: FaceTrack, fps: float) -> Filmed:
    frames = np.asarray(track.frames)
    values = np.array([_gap_width(lm) for lm in track.landmarks])
    samples = audiofeat.clip_samples(clip)
    env = audiofeat.envelope_db(samples, audiofeat.SR, fps, int(frames.max()) + 1)[frames]
    speaking = env > env.max() - 30
    return Filmed(values[:, 0], values[:, 1], values[speaking, 0] if speaking.sum() > 10 else values[:, 0],
                  correlation(values[:, 2], values[:, 0]))


def measure(driver: str, shapes: np.ndarray, frames: list[np.ndarray], renderer: mouth.MouthRenderer,
            first: int, fps: float, slot: SlotAudio, offset_s: float, filmed: Filmed,
            ctx: EngineContext) -> Result:
    """Render the slot's frames with `shapes`, re-detect the lips and score them against the phonemes."""
    n = min(len(shapes), len(frames))
    plan = renderer.plan(first, shapes[:n], ease_weights(n, slotmouth.EASE_FRAMES))
    gaps, wides, chins = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    renderer.move_jaw = driver != "phonemes, no jaw"
    for k in range(n):
        faces = ctx.analyzer.detect_image(renderer.render(frames[k], first + k, plan))
        if faces:
            gaps[k], wides[k], chins[k] = _gap_width(faces[0].landmarks)
    renderer.move_jaw = True
    merged = visemes.merge_marks(slot.phonemes or [])
    bilabial = _frames_of(merged, frozenset("pbm"), fps, offset_s, n)
    vowels = _frames_of(merged, OPEN_VOWELS, fps, offset_s, n)
    spread = _frames_of(merged, SPREAD, fps, offset_s, n)
    rounded = _frames_of(merged, ROUNDED, fps, offset_s, n)
    gap_s, wide_s = _scale(gaps, filmed.gap), _scale(wides, filmed.width)
    low, high = np.percentile(filmed.gap, [10, 90])
    shut_line = low + 0.15 * (high - low)
    env = audiofeat.envelope_db(slot.samples[max(int(round(offset_s * slot.sr)), 0):], slot.sr, fps, n)
    ok = ~np.isnan(gaps)

    def mean_at(values: np.ndarray, rows: np.ndarray) -> float:
        picked = values[rows] if len(rows) else np.array([np.nan])
        return float(np.nanmean(picked)) if np.isfinite(picked).any() else float("nan")

    return Result(
        template="", name="", driver=driver,
        shut=(int((gaps[bilabial] <= shut_line).sum()), len(bilabial)),
        gap_bilabial=mean_at(gap_s, bilabial), gap_vowel=mean_at(gap_s, vowels),
        round=mean_at(wide_s, spread) - mean_at(wide_s, rounded),
        r=correlation(gaps[ok], np.maximum(env, np.percentile(env, 5))[ok]) if ok.sum() > 2 else float("nan"),
        motion=float(np.nanstd(gaps) / max(float(np.std(filmed.speaking_gap)), 1e-9)),
        jaw_r=correlation(chins[ok], gaps[ok]) if ok.sum() > 2 else float("nan"),
        redetected=f"{int(ok.sum())}/{n}",
    )


def driver_shapes(driver: str, clip: Path, analysis: TemplateAnalysis, slot: SlotAudio, renderer: mouth.MouthRenderer,
                  fps: float, n: int, offset_s: float) -> np.ndarray:
    samples = slot.samples[max(int(round(offset_s * slot.sr)), 0):]
    if driver.startswith("phonemes"):
        return visemes.viseme_shapes(slot.phonemes or [], samples, slot.sr, fps, n, renderer.shapes, offset_s)
    if driver == "loudness":
        return slotmouth.loudness_shapes(samples, slot.sr, fps, n, renderer.shapes)
    model = slotmouth.ensure_mouth_model(clip, analysis, renderer.track.id)
    return model.predict(samples, slot.sr, n)


def evaluate_template(clip: Path, names: tuple[str, ...], work: Path,
                      ctx: EngineContext) -> tuple[list[Result], Filmed]:
    analysis = analyse_template(clip, work / "cache", ctx)
    fps = analysis.info.fps
    mono = speech.load_audio(clip, slots.SR)
    slot_span = pick_slot(mono, len(mono) / slots.SR)
    speaker = slots.default_speaker(analysis, *slot_span)
    track_id = speaker if speaker is not None else analysis.default_track_id()
    renderer = mouth.MouthRenderer(clip, analysis, track_id)
    filmed = filmed_mouth(clip, analysis.track(track_id), fps)
    first, last = slotmouth.slot_frames(*slot_span, fps, analysis.info.frame_count)
    frames = read_frames(clip, first, last)
    offset_s = first / fps - slot_span[0]
    results: list[Result] = []
    for name in names:
        line = SlotLine(*slot_span, f"Happy Diwali, {name}!", speaker_track=track_id)
        reference = slots.reference_voice(mono, slots.SR, [line],
                                             slots.speaker_span(analysis, track_id))
        slot = slots.line_audio(line, reference, slots.SR, ctx.voice)
        for driver in DRIVERS:
            shapes = driver_shapes(driver, clip, analysis, slot, renderer, fps, last - first, offset_s)
            result = measure(driver, shapes, frames, renderer, first, fps, slot, offset_s, filmed, ctx)
            result.template, result.name = clip.stem, name
            results.append(result)
    return results, filmed


def _f(value: float, digits: int = 2) -> str:
    return "-" if not np.isfinite(value) else f"{value:.{digits}f}"


def table(results: list[Result]) -> list[str]:
    lines = ["| template | name | driver | shut p/b/m | gap p/b/m | gap vowels | round | r | motion | jaw r "
             "| faces |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in results:
        lines.append(f"| {x.template} | {x.name} | {x.driver} | {x.shut[0]}/{x.shut[1]} | {_f(x.gap_bilabial)} "
                     f"| {_f(x.gap_vowel)} | {_f(x.round)} | {_f(x.r)} | {_f(x.motion)} | {_f(x.jaw_r)} "
                     f"| {x.redetected} |")
    return lines


def summary(results: list[Result]) -> list[str]:
    lines = ["| driver | shut p/b/m | gap p/b/m (mean) | gap vowels (mean) | round (mean) | r (median) "
             "| motion (median) | jaw r (median) |", "|---|---|---|---|---|---|---|---|"]
    for driver in DRIVERS:
        rows = [x for x in results if x.driver == driver]
        shut = sum(x.shut[0] for x in rows), sum(x.shut[1] for x in rows)
        lines.append(
            f"| {driver} | {shut[0]}/{shut[1]} | {_f(float(np.nanmean([x.gap_bilabial for x in rows])))} "
            f"| {_f(float(np.nanmean([x.gap_vowel for x in rows])))} "
            f"| {_f(float(np.nanmean([x.round for x in rows])))} | {_f(float(np.nanmedian([x.r for x in rows])))} "
            f"| {_f(float(np.nanmedian([x.motion for x in rows])))} "
            f"| {_f(float(np.nanmedian([x.jaw_r for x in rows])))} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media")
    parser.add_argument("--templates", nargs="+", default=list(TEMPLATES))
    parser.add_argument("--names", nargs="+", default=list(NAMES))
    parser.add_argument("--quality", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "QUALITY.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    folder = args.media / "templates"
    if not folder.is_dir():
        print(f"no template folder at {folder}: this evaluation needs the shared real media", file=sys.stderr)
        return 2
    started = time.monotonic()
    results: list[Result] = []
    filmed: dict[str, Filmed] = {}
    with tempfile.TemporaryDirectory(prefix="articulation-eval-") as tmp, EngineContext(Path(tmp)) as ctx:
        for clip in template_clips(folder, args.templates):
            found, filmed[clip.stem] = evaluate_template(clip, tuple(args.names), Path(tmp), ctx)
            results.extend(found)
            print(f"{clip.name}: done at {time.monotonic() - started:.0f} s", flush=True)
    total = time.monotonic() - started
    reference = "Filmed jaw r (the speaker's own footage, whole track): " + ", ".join(
        f"{stem} {_f(f.jaw_r)}" for stem, f in filmed.items()) + "."
    print("\n".join(summary(results) + ["", reference, ""] + table(results)))
    if not args.no_write:
        replace_section(args.quality, SECTION, [
            SECTION, "",
            f"Measured {datetime.date.today().isoformat()} on {machine()} "
            f"by `python -m evals.articulation_eval` ({total:.0f} s). "
            "What each column means is in the module's docstring; in short: shut = p/b/m whose frame shows "
            "the lips in the speaker's own shut range; gaps and round on the speaker's filmed scale (0 = "
            "their 3rd percentile, 1 = their 97th); round > 0 means narrower lips on w/u/o/sh/r than on "
            "i/e; motion = the gap's spread over the speaker's filmed spread while speaking.", "",
            *summary(results), "", reference, "", *table(results), "",
        ])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
