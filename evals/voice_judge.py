"""Where the product's replaced line stands against the celebrity's own voice (speaker similarity).

For every dev template with speech in ../shared/media/templates and a set of names, the line
"Happy Diwali, {name}!" is made by the engine's own dialogue path (`dialogue.build_soundtrack`, the
template's soundtrack as the voice reference, as `dialogue_eval` does) in the slot `dialogue_eval.pick_slot`
places, and scored against the celebrity's speech outside the slot by

- the GE2E judge (evals.speaker_judge: Resemblyzer's speaker encoder, cosine of embeddings),
- a GMM-UBM log-likelihood ratio on MFCCs (evals.cepstral_judge: independent features and model),
- pocketsphinx (evals.intelligibility: is the name still heard?).

Beside each rendered line: (a) the celebrity's own speech cut into windows of the slot's length, each
scored against the rest of their speech (the level a real line of theirs reaches; the target is
rendered / own mean >= 0.9), (b) the filmed audio under the slot, (d) the raw TTS line before conversion
(Piper; espeak-ng for Devanagari), (e) the floor: other speakers (shared audio/en, hi, other and the
other templates) in windows of the same length against the same reference.

Since the engine converts lines frame by frame from the celebrity's own speech (swapengine.voice.knnvc),
the reference above is also its material, which rewards copying: the held-out columns make the same raw
line with the engine's conversion from the first half of that speech only, before (pitch and colour)
and after (kNN), and judge it on the second half. Naturalness (evals.naturalness): join flux, HNR and
loudness against the neighbouring speech, beside the same measures of the filmed audio.

Run: python -m evals.voice_judge [--quick] [--write]   (--write: docs/eval/voice_judge.md and .json)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from evals import cepstral_judge as cj
from evals import route_probes as rp
from evals.dialogue_eval import pick_slot
from evals.intelligibility import Listener
from evals.naturalness import Natural
from evals.naturalness import measure as naturalness
from evals.speaker_judge import SR as JUDGE_SR
from evals.speaker_judge import Judge, cosine
from swapengine.errors import BadInput
from swapengine.voice import slots as dialogue
from swapengine.voice import speech
from swapengine.voice.slots import SlotLine
from swapengine.voice.tts import EspeakVoice, PiperVoice, Speech, indic_language, speech_span

SR = dialogue.SR
TEMPLATES = ("t01_sadtalker_aoc", "t03_retalk_face1", "t07_retalk_face5", "t08_latentsync_demo1",
             "t11_w2lgfpgan_kim_1080p", "t12_r3d_may", "t14_pcavs_00104", "t16_pcavs_620900105")
NAMES = ("Priya", "Bob", "Mohammed", "Anand", "Pooja Bhatt", "Christopher", "प्रिया", "राहुल")
QUICK_TEMPLATES = ("t03_retalk_face1", "t01_sadtalker_aoc")
QUICK_NAMES = ("Priya", "Christopher", "प्रिया")
LINE = "Happy Diwali, {name}!"
TARGET = 0.9
MIN_SPEECH = 0.6  # a window counts as the speaker's speech when this share of it is in speech regions
FLOOR_WINDOWS = 2  # per other recording
MARK_START, MARK_END = "<!-- results:start -->", "<!-- results:end -->"


@dataclass
class Score:
    cos: float  # GE2E cosine to the reference
    llr: float | None  # GMM-UBM log-likelihood ratio against the speaker model


@dataclass
class NameRow:
    name: str
    voice: str
    slot: tuple[float, float]
    lengthened: bool  # the natural slot was too short for the line (the product refuses the name there)
    rendered: Score
    raw: Score
    own_mean: float  # GE2E own-window mean at this slot length
    own_llr: float | None
    pick_raw: bool
    pick_rendered: bool
    heard_rendered: str
    per_raw: float
    per_rendered: float
    seconds: float
    # held-out probes (evals.route_probes): scored against the second half of the celebrity's speech
    held_rendered: float = 0.0
    held_raw: float = 0.0
    held_knn: float = 0.0
    held_knn_llr: float | None = None
    pick_knn: bool = False
    per_knn: float = 0.0
    conversion: str = ""  # what the engine used (slots.CONVERSIONS key) and with how much material
    material_s: float = 0.0
    # held-out, the engine's own conversion made from the first half only: before (pitch and colour)
    # and after (the same line then converted frame by frame, slots.converted_line forced to kNN)
    held_before: float = 0.0
    held_before_llr: float | None = None
    pick_before: bool = False
    held_after: float = 0.0
    held_after_llr: float | None = None
    pick_after: bool = False
    natural: Natural | None = None
    original_natural: Natural | None = None

    @property
    def ratio(self) -> float:
        return self.rendered.cos / self.own_mean


@dataclass
class TemplateResult:
    template: str
    duration: float
    slot: tuple[float, float]
    own: list[Score]  # at the natural slot's length
    original: Score
    floor: list[tuple[str, Score]]
    names: list[NameRow] = field(default_factory=list)
    held_level: list[Score] = field(default_factory=list)  # real windows of the material vs held-out half
    held_units: Score | None = None

    @property
    def own_mean(self) -> float:
        return float(np.mean([s.cos for s in self.own]))


def speech_share(regions: list[tuple[float, float]], a: float, b: float) -> float:
    covered = sum(max(0.0, min(b, y) - max(a, x)) for x, y in regions)
    return covered / max(b - a, 1e-9)


def windows(mono: np.ndarray, sr: int, length: float, regions: list[tuple[float, float]],
            hop: float | None = None, start: float = 0.0, limit: int | None = None) -> list[tuple[float, float]]:
    """Windows of `length` s (hop: half of it) that are mostly speech."""
    duration = len(mono) / sr
    hop = hop or length / 2
    out = []
    t = start
    while t + length <= duration + 1e-6:
        if speech_share(regions, t, t + length) >= MIN_SPEECH:
            out.append((round(t, 3), round(t + length, 3)))
            if limit is not None and len(out) >= limit:
                break
        t += hop
    return out


def outside(mono: np.ndarray, sr: int, span: tuple[float, float]) -> np.ndarray:
    """The speaker's speech outside `span` (speech spans only), as dialogue_eval's reference."""
    rest = dialogue.reference_voice(mono, sr, [SlotLine(*span, "")], None)
    return speech.active_samples(rest, sr)


def cut(mono: np.ndarray, sr: int, span: tuple[float, float]) -> np.ndarray:
    return mono[int(span[0] * sr):int(span[1] * sr)]


class Recorder:
    """The English voice, keeping the raw line build_soundtrack converts (Piper samples differently
    each time, so the raw line must be the very one that was converted)."""

    def __init__(self, inner: PiperVoice) -> None:
        self.inner = inner
        self.name = inner.name
        self.last: Speech | None = None

    @property
    def formant_f3(self) -> float | None:
        return self.inner.formant_f3

    def synthesise(self, text: str) -> Speech:
        self.last = self.inner.synthesise(text)
        return self.last


class Scorer:
    """Both speaker measures against references cached by (template, span)."""

    def __init__(self, judge: Judge, ubm: cj.GMM) -> None:
        self.judge = judge
        self.ubm = ubm
        self._refs: dict[tuple[str, tuple[float, float]], tuple[np.ndarray, cj.GMM]] = {}

    def reference(self, key: str, mono: np.ndarray, sr: int, span: tuple[float, float]) -> tuple[np.ndarray, cj.GMM]:
        if (key, span) not in self._refs:
            ref = outside(mono, sr, span)
            self._refs[(key, span)] = (self.judge.embed(ref, sr), cj.adapt(self.ubm, cj.mfcc(ref, sr)))
        return self._refs[(key, span)]

    def score(self, ref: tuple[np.ndarray, cj.GMM], samples: np.ndarray, sr: int) -> Score:
        emb, model = ref
        return Score(cosine(self.judge.embed(samples, sr), emb), cj.llr(model, self.ubm, cj.mfcc(samples, sr)))


def other_speakers(media: Path) -> list[tuple[str, np.ndarray]]:
    files = sorted(p for sub in ("en", "hi", "other") for p in (media / "audio" / sub).glob("*")
                   if p.suffix in (".wav", ".flac"))
    return [(p.stem, speech.load_audio(p, JUDGE_SR)) for p in files]


def train_background(others: list[tuple[str, np.ndarray]]) -> cj.GMM:
    """The UBM, from the first half of every other-speaker recording (the floor uses second halves)."""
    frames = np.vstack([cj.mfcc(x[:len(x) // 2], JUDGE_SR) for _, x in others])
    return cj.train_ubm(frames)


def own_windows(scorer: Scorer, key: str, mono: np.ndarray, length: float,
                regions: list[tuple[float, float]]) -> list[Score]:
    out = []
    for span in windows(mono, SR, length, regions):
        out.append(scorer.score(scorer.reference(key, mono, SR, span), cut(mono, SR, span), SR))
    return out


def floor_scores(scorer: Scorer, ref: tuple[np.ndarray, cj.GMM], length: float,
                 others: list[tuple[str, np.ndarray]], templates: dict[str, np.ndarray], key: str,
                 regions: dict[str, list[tuple[float, float]]]) -> list[tuple[str, Score]]:
    out = []
    for label, x in others:  # second halves: not in the UBM
        spans = windows(x, JUDGE_SR, length, speech.speech_regions(x, JUDGE_SR), hop=length,
                        start=len(x) / JUDGE_SR / 2, limit=FLOOR_WINDOWS)
        out += [(label, scorer.score(ref, cut(x, JUDGE_SR, s), JUDGE_SR)) for s in spans]
    for label, mono in templates.items():
        if label == key:
            continue
        spans = windows(mono, SR, length, regions[label], hop=length, limit=FLOOR_WINDOWS)
        out += [(label, scorer.score(ref, cut(mono, SR, s), SR)) for s in spans]
    return out


def slot_for(text: str, slot: tuple[float, float], duration: float, piper: PiperVoice) -> tuple[float, float]:
    """The natural slot, or one lengthened (same start, else moved earlier) to what fit_to_slot accepts
    for this line (at most 35% faster), with a margin for Piper's sample-to-sample variation."""
    voice = piper if indic_language(text) is None else EspeakVoice(indic_language(text) or "hi")
    said = voice.synthesise(text)
    a, b = speech_span(said.samples, said.sr)
    need = (b - a) / said.sr * 0.65 * 1.1
    if need <= slot[1] - slot[0]:
        return slot
    length = float(np.ceil(need * 10) / 10)
    start = min(slot[0], duration - 0.2 - length)
    return round(max(start, 0.2), 2), round(max(start, 0.2) + length, 2)


def evaluate(clip: Path, names: tuple[str, ...], scorer: Scorer, listener: Listener, piper: PiperVoice,
             others: list[tuple[str, np.ndarray]], templates: dict[str, np.ndarray],
             regions: dict[str, list[tuple[float, float]]], work: Path) -> TemplateResult:
    key = clip.stem
    mono = templates[key]
    duration = len(mono) / SR
    slot = pick_slot(mono, duration)
    length = round(slot[1] - slot[0], 2)
    own_cache: dict[float, list[Score]] = {length: own_windows(scorer, key, mono, length, regions[key])}
    ref = scorer.reference(key, mono, SR, slot)
    result = TemplateResult(key, duration, slot, own_cache[length], scorer.score(ref, cut(mono, SR, slot), SR),
                            floor_scores(scorer, ref, length, others, templates, key, regions))
    rest = outside(mono, SR, slot)
    material, held = rp.split_material(rest, SR)
    material_sr = rest[:len(rest) // 2]  # the same first half at the engine's rate
    held_ref = (scorer.judge.embed(held, JUDGE_SR), cj.adapt(scorer.ubm, cj.mfcc(held, JUDGE_SR)))
    result.held_level = [scorer.score(held_ref, cut(material, JUDGE_SR, s), JUDGE_SR)
                         for s in windows(material, JUDGE_SR, length, [(0.0, len(material) / JUDGE_SR)])]
    result.held_units = scorer.score(held_ref, rp.shuffled_units(material, length), JUDGE_SR)
    recorder = Recorder(piper)
    for name in names:
        text = LINE.format(name=name)
        started = time.monotonic()
        span = slot
        for attempt in range(4):
            try:
                out_wav = work / f"{key}.wav"
                made = dialogue.build_soundtrack(clip, None, [SlotLine(*span, text)], out_wav, english=recorder)
                break
            except BadInput as exc:
                if exc.code != "name_too_long_for_slot" or attempt == 3:
                    raise
                span = slot_for(text, span, duration, piper) if attempt == 0 else (span[0], round(span[1] + 0.2, 2))
        seconds = time.monotonic() - started
        rendered = cut(speech.load_audio(out_wav, SR), SR, span)
        if made[0].voice == piper.name and recorder.last is not None:
            raw = recorder.last
        else:
            raw = EspeakVoice(indic_language(text) or "en-us").synthesise(text)
        span_ref = scorer.reference(key, mono, SR, span)
        span_len = round(span[1] - span[0], 2)
        if span_len not in own_cache:
            own_cache[span_len] = own_windows(scorer, key, mono, span_len, regions[key])
        own = own_cache[span_len]
        heard_raw, heard_new = listener.read(raw.samples, raw.sr, name), listener.read(rendered, SR, name)
        own_llrs = [s.llr for s in own if s.llr is not None]
        knn = rp.knn_convert(raw.samples, raw.sr, material)
        f3 = piper.formant_f3 if made[0].voice == piper.name else None
        before, _, _ = dialogue.converted_line(raw, material_sr, SR, (), voice_f3=f3, min_material_s=float("inf"))
        after, _, _ = dialogue.converted_line(raw, material_sr, SR, (), voice_f3=f3, min_material_s=0.0)
        s_before, s_after = scorer.score(held_ref, before.samples, SR), scorer.score(held_ref, after.samples, SR)
        track = speech.load_audio(out_wav, SR)
        knn_score, heard_knn = scorer.score(held_ref, knn, JUDGE_SR), listener.read(knn, JUDGE_SR, name)
        result.names.append(NameRow(
            name=name, voice=made[0].voice, slot=span, lengthened=span != slot,
            rendered=scorer.score(span_ref, rendered, SR), raw=scorer.score(span_ref, raw.samples, raw.sr),
            own_mean=float(np.mean([s.cos for s in own])),
            own_llr=float(np.mean(own_llrs)) if own_llrs else None,
            pick_raw=heard_raw.right, pick_rendered=heard_new.right, heard_rendered=heard_new.heard,
            per_raw=heard_raw.per, per_rendered=heard_new.per, seconds=seconds,
            held_rendered=scorer.score(held_ref, rendered, SR).cos,
            held_raw=scorer.score(held_ref, raw.samples, raw.sr).cos,
            held_knn=knn_score.cos, held_knn_llr=knn_score.llr, pick_knn=heard_knn.right, per_knn=heard_knn.per,
            conversion=made[0].conversion, material_s=made[0].material_s,
            held_before=s_before.cos, held_before_llr=s_before.llr,
            pick_before=listener.read(before.samples, SR, name).right,
            held_after=s_after.cos, held_after_llr=s_after.llr, pick_after=listener.read(after.samples, SR, name).right,
            natural=naturalness(track, SR, span), original_natural=naturalness(mono, SR, span)))
    return result


def _f(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def summary_table(results: list[TemplateResult]) -> list[str]:
    lines = ["| template | slot (s) | own windows: mean / min (n) | original slot | rendered (Piper names): "
             "min / median / max | rendered (espeak-ng, Hindi) | raw TTS: Piper / espeak | floor: min / mean / max (n) "
             "| rendered / own mean: min-max | >= 0.9 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        own = [s.cos for s in r.own]
        piper = [n for n in r.names if n.voice.startswith("Piper")]
        hindi = [n for n in r.names if not n.voice.startswith("Piper")]
        floor = [s.cos for _, s in r.floor]
        ratios = [n.ratio for n in r.names]

        def trio(v: list[float]) -> str:
            return "-" if not v else f"{min(v):.2f} / {np.median(v):.2f} / {max(v):.2f}"

        lines.append(
            f"| {r.template} | {r.slot[0]:.2f}-{r.slot[1]:.2f} | {np.mean(own):.2f} / {min(own):.2f} ({len(own)}) "
            f"| {r.original.cos:.2f} | {trio([n.rendered.cos for n in piper])} "
            f"| {', '.join(f'{n.rendered.cos:.2f}' for n in hindi) or '-'} "
            f"| {_f(float(np.mean([n.raw.cos for n in piper])) if piper else None)} / "
            f"{_f(float(np.mean([n.raw.cos for n in hindi])) if hindi else None)} "
            f"| {min(floor):.2f} / {np.mean(floor):.2f} / {max(floor):.2f} ({len(floor)}) "
            f"| {min(ratios):.2f}-{max(ratios):.2f} | {sum(x >= TARGET for x in ratios)}/{len(ratios)} |")
    return lines


def name_table(results: list[TemplateResult]) -> list[str]:
    lines = ["| template | name | voice | slot (s) | GE2E: rendered | raw TTS | own mean (this length) "
             "| rendered / own | position | GMM LLR: rendered | raw | own mean | pick: raw / rendered "
             "| PER: raw / rendered | make (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        floor = float(np.mean([s.cos for _, s in r.floor]))
        for n in r.names:
            position = (n.rendered.cos - floor) / max(n.own_mean - floor, 1e-9)
            slot = f"{n.slot[0]:.2f}-{n.slot[1]:.2f}" + (" (longer)" if n.lengthened else "")
            lines.append(
                f"| {r.template} | {n.name} | {n.voice} | {slot} | {n.rendered.cos:.2f} | {n.raw.cos:.2f} "
                f"| {n.own_mean:.2f} | {n.ratio:.2f}{'' if n.ratio >= TARGET else ' MISS'} | {position:.2f} "
                f"| {_f(n.rendered.llr)} | {_f(n.raw.llr)} | {_f(n.own_llr)} "
                f"| {'yes' if n.pick_raw else 'no'} / {'yes' if n.pick_rendered else 'no'} "
                f"| {n.per_raw:.2f} / {n.per_rendered:.2f} | {n.seconds:.1f} |")
    return lines


def gmm_table(results: list[TemplateResult]) -> list[str]:
    lines = ["| template | own windows: mean / min | original slot | rendered: min / median / max "
             "| raw TTS: mean | floor: mean / max | rendered above floor max |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        own = [s.llr for s in r.own if s.llr is not None]
        floor = [s.llr for _, s in r.floor if s.llr is not None]
        new = [n.rendered.llr for n in r.names if n.rendered.llr is not None]
        raw = [n.raw.llr for n in r.names if n.raw.llr is not None]
        lines.append(
            f"| {r.template} | {np.mean(own):.2f} / {min(own):.2f} | {_f(r.original.llr)} "
            f"| {min(new):.2f} / {np.median(new):.2f} / {max(new):.2f} | {np.mean(raw):.2f} "
            f"| {np.mean(floor):.2f} / {max(floor):.2f} | {sum(x > max(floor) for x in new)}/{len(new)} |")
    return lines


def nearest_floor(results: list[TemplateResult]) -> list[str]:
    out = []
    for r in results:
        label, s = max(r.floor, key=lambda item: item[1].cos)
        out.append(f"{r.template}: {label} {s.cos:.2f}")
    return out


def overall(results: list[TemplateResult]) -> list[str]:
    rows = [n for r in results for n in r.names]
    ratios = [n.ratio for n in rows]
    piper = [n.ratio for n in rows if n.voice.startswith("Piper")]
    hindi = [n.ratio for n in rows if not n.voice.startswith("Piper")]
    return [
        f"- Rendered / own-windows mean, all {len(rows)} lines: median {np.median(ratios):.2f}, "
        f"min {min(ratios):.2f}, max {max(ratios):.2f}; >= {TARGET}: {sum(x >= TARGET for x in ratios)}/{len(ratios)}"
        f" (Piper names {sum(x >= TARGET for x in piper)}/{len(piper)}"
        + (f", espeak-ng Hindi {sum(x >= TARGET for x in hindi)}/{len(hindi)}" if hindi else "") + ").",
        f"- Name picked by the grammar: raw TTS {sum(n.pick_raw for n in rows)}/{len(rows)}, rendered "
        f"{sum(n.pick_rendered for n in rows)}/{len(rows)}; phone error rate, median: raw "
        f"{np.median([n.per_raw for n in rows]):.2f}, rendered {np.median([n.per_rendered for n in rows]):.2f}.",
        f"- Lines that needed a longer slot than the natural one (the product refuses them there): "
        f"{sum(n.lengthened for n in rows)}/{len(rows)} "
        f"({', '.join(sorted({n.name for n in rows if n.lengthened})) or 'none'}).",
        "- Nearest other speaker per template (GE2E): " + "; ".join(nearest_floor(results)) + ".",
        "- Conversion used by the engine: " + ", ".join(
            f"{k} {sum(n.conversion == k for n in rows)}/{len(rows)}" for k in sorted({n.conversion for n in rows}))
        + f"; seconds per line (whole soundtrack written), median {np.median([n.seconds for n in rows]):.1f}, "
        f"max {max(n.seconds for n in rows):.1f}.",
        *held_summary(results),
    ]


def held_summary(results: list[TemplateResult]) -> list[str]:
    """The fair comparison: material = first half of the speech outside the slot, judged on the second."""
    rows = [(r, n) for r in results for n in r.names if r.held_level]

    def ratios(attr: str) -> list[float]:
        return [getattr(n, attr) / float(np.mean([s.cos for s in r.held_level])) for r, n in rows]

    def llr(attr: str) -> str:
        vals = [getattr(n, attr) for _, n in rows if getattr(n, attr) is not None]
        return f"{np.median(vals):+.2f}" if vals else "-"

    before, after = ratios("held_before"), ratios("held_after")
    return [
        f"- Held-out (material = first half, judged on the second half; level = real windows of the first "
        f"half): GE2E ratio to level, median before (pitch and colour) {np.median(before):.2f} -> after (kNN) "
        f"{np.median(after):.2f}; >= {TARGET}: {sum(x >= TARGET for x in before)} -> "
        f"{sum(x >= TARGET for x in after)} of {len(rows)}; GMM LLR median {llr('held_before_llr')} -> "
        f"{llr('held_after_llr')}; name picked {sum(n.pick_before for _, n in rows)} -> "
        f"{sum(n.pick_after for _, n in rows)} (raw {sum(n.pick_raw for _, n in rows)}).",
    ]


def probe_table(results: list[TemplateResult]) -> list[str]:
    lines = ["| template | level: real windows (n) | units: shuffled own pieces | product line: mean | raw TTS: mean "
             "| kNN frames: mean | ratio to level: units / product / kNN | kNN GMM LLR: mean (level) "
             "| kNN name picked | PER: product / kNN |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        level = float(np.mean([s.cos for s in r.held_level])) if r.held_level else float("nan")
        level_llr = [s.llr for s in r.held_level if s.llr is not None]
        units = r.held_units.cos if r.held_units else float("nan")
        prod = float(np.mean([n.held_rendered for n in r.names]))
        knn = float(np.mean([n.held_knn for n in r.names]))
        knn_llr = [n.held_knn_llr for n in r.names if n.held_knn_llr is not None]
        lines.append(
            f"| {r.template} | {level:.2f} ({len(r.held_level)}) | {units:.2f} | {prod:.2f} "
            f"| {np.mean([n.held_raw for n in r.names]):.2f} | {knn:.2f} "
            f"| {units / level:.2f} / {prod / level:.2f} / {knn / level:.2f} "
            f"| {_f(float(np.mean(knn_llr)) if knn_llr else None)} "
            f"({_f(float(np.mean(level_llr)) if level_llr else None)}) "
            f"| {sum(n.pick_knn for n in r.names)}/{len(r.names)} "
            f"| {np.median([n.per_rendered for n in r.names]):.2f} / {np.median([n.per_knn for n in r.names]):.2f} |")
    return lines


def natural_table(results: list[TemplateResult]) -> list[str]:
    lines = ["| template | name | conversion (material s) | join flux in / out (original slot) | HNR dB: slot / "
             "neighbours (original slot) | LUFS slot - neighbours (original) | held-out GE2E before / after "
             "| held-out LLR before / after | picked before / after |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for n in r.names:
            a, o = n.natural, n.original_natural
            if a is None or o is None:
                continue
            lines.append(
                f"| {r.template} | {n.name} | {n.conversion} ({n.material_s:.0f}) | {a.flux_in:.1f} / {a.flux_out:.1f} "
                f"({o.flux_in:.1f} / {o.flux_out:.1f}) | {_f(a.hnr_slot, 1)} / {_f(a.hnr_around, 1)} "
                f"({_f(o.hnr_slot, 1)}) | {_f(a.lufs_delta, 1)} ({_f(o.lufs_delta, 1)}) "
                f"| {n.held_before:.2f} / {n.held_after:.2f} | {_f(n.held_before_llr)} / {_f(n.held_after_llr)} "
                f"| {'yes' if n.pick_before else 'no'} / {'yes' if n.pick_after else 'no'} |")
    return lines


def report(results: list[TemplateResult], seconds: float, quick: bool) -> list[str]:
    return [
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores, no GPU, by "
        f"`python -m evals.voice_judge{' --quick' if quick else ''}` ({seconds:.0f} s).", "",
        *overall(results), "",
        "Per template (GE2E cosine to the celebrity's speech outside the slot):", "",
        *summary_table(results), "",
        "Per name (position: 0 = the floor's mean, 1 = the celebrity's own windows' mean):", "",
        *name_table(results), "",
        "Second measure, GMM-UBM log-likelihood ratio on MFCCs (above 0: nearer this speaker than the "
        "background; natural-length windows):", "",
        *gmm_table(results), "",
        "Route probes (evals.route_probes), GE2E against the held-out second half of the celebrity's speech "
        "outside the slot; material = the first half:", "",
        *probe_table(results), "",
        "Naturalness (evals.naturalness) and the held-out before/after of the engine's conversion, per line:", "",
        *natural_table(results),
    ]


def write_doc(path: Path, body: list[str]) -> None:
    block = "\n".join([MARK_START, *body, MARK_END])
    if path.is_file() and MARK_START in path.read_text():
        text = path.read_text()
        start, end = text.index(MARK_START), text.index(MARK_END) + len(MARK_END)
        path.write_text(text[:start] + block + text[end:])
    else:
        path.write_text("# Voice judge: speaker similarity of the replaced line\n\n" + block + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--media", type=Path, default=root.parent / "shared" / "media")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TEMPLATES} x {QUICK_NAMES}")
    parser.add_argument("--templates", nargs="+")
    parser.add_argument("--names", nargs="+")
    parser.add_argument("--write", action="store_true", help="write docs/eval/voice_judge.md and .json")
    args = parser.parse_args(argv)
    folder = args.media / "templates"
    if not folder.is_dir():
        print(f"no template folder at {folder}: this evaluation needs the shared real media", file=sys.stderr)
        return 2
    chosen = args.templates or list(QUICK_TEMPLATES if args.quick else TEMPLATES)
    names = tuple(args.names or (QUICK_NAMES if args.quick else NAMES))
    started = time.monotonic()
    judge = Judge()
    others = other_speakers(args.media)
    ubm = train_background(others)
    scorer = Scorer(judge, ubm)
    listener = Listener(list(NAMES) + list(names))
    clips = {p.stem: p for p in sorted(folder.glob("*.mp4"))}  # every template is a floor speaker
    templates = {k: speech.load_audio(p, SR) for k, p in clips.items()}
    regions = {k: speech.speech_regions(m, SR) for k, m in templates.items()}
    print(f"judge, UBM and {len(others)} other speakers ready at {time.monotonic() - started:.0f} s", flush=True)
    results = []
    piper = PiperVoice()
    with tempfile.TemporaryDirectory(prefix="voice-judge-") as tmp:
        for key in chosen:
            if key not in clips:
                print(f"skipping {key}: not in {folder}", file=sys.stderr)
                continue
            results.append(evaluate(clips[key], names, scorer, listener, piper, others, templates, regions, Path(tmp)))
            print(f"{key}: done at {time.monotonic() - started:.0f} s", flush=True)
    seconds = time.monotonic() - started
    body = report(results, seconds, args.quick)
    print("\n".join(body))
    if args.write:
        out = root / "docs" / "eval"
        out.mkdir(parents=True, exist_ok=True)
        write_doc(out / "voice_judge.md", body)
        (out / "voice_judge.json").write_text(json.dumps(
            {"date": datetime.date.today().isoformat(), "seconds": round(seconds, 1),
             "results": [asdict(r) for r in results]}, ensure_ascii=False, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
