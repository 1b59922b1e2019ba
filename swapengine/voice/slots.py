"""A template's dialogue slots in sound: each slot's new line, and the soundtrack with it.

Each slot's line comes from a real recording (the phrase bank, an admin's own take) or from the voice
engine moved towards the speaker's voice as heard in the clip, and lasts exactly as long as the slot.
With stems the line replaces the slot in the dialogue stem and the stems are mixed again; with only a
mixed track the slot's span is replaced with short crossfades, so whatever plays under it (music) is
replaced too: `music_under_slot` warns the admin about that.
"""

from __future__ import annotations

import logging
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from swapengine.errors import BadInput, EngineError
from swapengine.faces.analysis import TemplateAnalysis
from swapengine.media.audio import decode_channels, load_audio
from swapengine.voice import alignment, knnvc
from swapengine.voice.speech import frame_stats, loudness_lufs
from swapengine.voice.tts import Phoneme, Speech, Voice, convert_towards, fit_to_slot, indic_language, voice_for_text

log = logging.getLogger(__name__)
SR = 44100
CROSSFADE_S = 0.03
# Lip landmarks of the inner mouth (top, bottom) and the outer eye corners (scale), mediapipe indices.
_INNER_TOP, _INNER_BOTTOM, _EYE_L, _EYE_R = 13, 14, 33, 263


@dataclass(frozen=True)
class SlotLine:
    """What one slot says. `recording`, when given, is used as is instead of the voice engine."""

    start: float
    end: float
    text: str
    speaker_track: int | None = None
    recording: Path | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Stems:
    """The production's separate dialogue and music-and-effects tracks (same timeline as the clip)."""

    dialogue: Path
    music: Path


@dataclass
class SlotAudio:
    """A slot's new line at `sr`, exactly the slot's length; `source` is "recording" or "voice".

    `phonemes` are the voice's (phoneme, start_s, end_s) from the slot's start, when it gives them
    (Piper does): they drive the mouth (swapengine.lips.visemes)."""

    line: SlotLine
    samples: np.ndarray
    sr: int
    source: str
    phonemes: list[Phoneme] | None = None
    voice: str = ""  # what said it: "the admin's recording", "Piper (joe-us)", "espeak-ng (hi)"
    conversion: str = ""  # how a synthesised line was moved towards the speaker (a key of CONVERSIONS)
    material_s: float = 0.0  # seconds of the speaker's own speech it was converted with


def write_wav(path: Path, audio: np.ndarray, sr: int) -> Path:
    """16-bit PCM, the channels of `audio` (samples, channels)."""
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(audio.shape[1])
        out.setsampwidth(2)
        out.setframerate(sr)
        out.writeframes(pcm.tobytes())
    return path


def reference_voice(mono: np.ndarray, sr: int, lines: list[SlotLine], span: tuple[float, float] | None,
                    min_seconds: float = 1.0) -> np.ndarray:
    """The speaker's own voice in the clip: `span` (where their face is on screen) minus every slot.

    Falls back to the whole track, slots included, when that leaves too little to learn a voice from.
    """
    keep = np.ones(len(mono), bool)
    if span is not None:
        keep[:max(int(span[0] * sr), 0)] = False
        keep[int(span[1] * sr):] = False
    for line in lines:
        keep[int(line.start * sr):int(line.end * sr)] = False
    chosen = mono[keep]
    return chosen if len(chosen) >= min_seconds * sr else mono


def _match_level(x: np.ndarray, reference: np.ndarray, sr: int) -> np.ndarray:
    target, current = loudness_lufs(reference, sr), loudness_lufs(x, sr)
    if target is None or current is None:
        return x
    gain = 10 ** ((target - current) / 20)
    return (x * np.float32(min(gain, 0.97 / max(float(np.max(np.abs(x))), 1e-9)))).astype(np.float32)


def recording_timings(text: str, samples: np.ndarray, sr: int, english: Voice | None) -> list[Phoneme] | None:
    """Phoneme timings for a recording of `text`: the English voice reads it and the reading is aligned
    onto the recording (swapengine.voice.alignment). None for Indic scripts, without a voice, or when the two
    do not align; the lips then follow the recording's sound alone."""
    if english is None or not text.strip() or indic_language(text) is not None:
        return None
    try:
        timings = alignment.align(english.synthesise(text), samples, sr)
    except (BadInput, EngineError) as exc:
        log.warning("no phoneme timings for the recording of %r: %s", text, exc)
        return None
    if timings is None:
        log.warning("the recording does not align with %r: its lips follow its sound", text)
    return timings


CONVERSIONS = {
    "knn": "converted frame by frame towards the celebrity's own speech (kNN, {material:.0f} s of their speech)",
    "pitch and colour": "moved to the celebrity's pitch and average voice colour only ({material:.0f} s of their "
                        "speech: a voice bank of {need:.0f} s or more would convert it frame by frame)",
}
# The least of the speaker's speech (template outside the slots + voice bank) the frame-level conversion
# is used with: below it, too few of their frames cover the line's sounds and the name gets harder to
# understand (docs/eval/voice_judge.md, "material").
KNN_MIN_SECONDS = 5.0
# How far each frame's envelope goes towards the celebrity's matched frames: all the way costs the name's
# intelligibility (pocketsphinx picked 12/18 lines against 16/18 unconverted, on 11-38 s of material),
# 0.6 picked 15/18 and kept part of the speaker-judge gain (docs/eval/voice_judge.md).
KNN_STRENGTH = 0.6


def converted_line(speech: Speech, reference: np.ndarray, sr: int, bank: Sequence[np.ndarray],
                   voice_f3: float | None, min_material_s: float = KNN_MIN_SECONDS) -> tuple[Speech, str, float]:
    """The synthesised line moved towards the speaker: pitch register, contour and average colour always
    (convert_towards), then frame by frame (knnvc, envelope mode) when there is enough of their speech
    (the clip's own outside the slots and the voice bank). Returns the line, the CONVERSIONS key and
    the seconds of material."""
    converted = convert_towards(speech, reference, sr, voice_f3=voice_f3)
    material = knnvc.Material.build([reference, *bank], sr)
    if material.seconds < min_material_s:
        return converted, "pitch and colour", material.seconds
    return knnvc.convert(converted, material, "envelope", strength=KNN_STRENGTH), "knn", material.seconds


def line_audio(line: SlotLine, reference: np.ndarray, sr: int, english: Voice | None = None,
               bank: Sequence[np.ndarray] = ()) -> SlotAudio:
    """The slot's new line, exactly `line.seconds` long, at `sr`.

    `reference` is the speaker's own speech in the clip outside the slots and `bank` their voice bank's
    recordings at `sr`: both are the material the synthesised line is converted towards."""
    if line.recording is not None:
        take = Speech(load_audio(line.recording, sr), sr)
        try:
            fitted = fit_to_slot(take, line.seconds)
        except BadInput:
            raise BadInput(f"The recording for the slot at {line.start:.1f} s is too long for it "
                           f"({line.seconds:.1f} s): please trim it or record it faster.",
                           code="recording_too_long_for_slot") from None
        samples = _match_level(fitted.samples, reference, sr)
        return SlotAudio(line, samples, sr, "recording", recording_timings(line.text, samples, sr, english),
                         "a recording")
    voice = voice_for_text(line.text, english)
    converted, how, material = converted_line(voice.synthesise(line.text), reference, sr, bank, voice.formant_f3)
    fitted = fit_to_slot(converted, line.seconds)
    return SlotAudio(line, fitted.samples, sr, "voice", fitted.phonemes, voice.name, how, material)


def splice(track: np.ndarray, new: np.ndarray, at: int, fade: int) -> None:
    """Replace track[at:at+len(new)] (every channel) by `new`, crossfading `fade` samples at each end."""
    end = min(at + len(new), len(track))
    if end <= at:
        return
    n = end - at
    gain = np.ones(n, np.float32)  # how much of the new line is heard
    fade = max(1, min(fade, n // 2))
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(np.float32)
    gain[:fade] = ramp
    gain[n - fade:] = ramp[::-1]
    old = track[at:end]
    track[at:end] = old * (1 - gain)[:, None] + (new[:n] * gain)[:, None]


def _soft_limit(audio: np.ndarray, ceiling: float = 0.98) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * np.float32(ceiling / peak) if peak > ceiling else audio


def speaker_span(analysis: TemplateAnalysis | None, track_id: int | None) -> tuple[float, float] | None:
    """Where the speaker's face is on screen, in seconds (None: unknown, use the whole track)."""
    if analysis is None or track_id is None:
        return None
    track = analysis.track(track_id)
    fps = analysis.info.fps
    return track.start / fps, (track.end + 1) / fps


def voice_bank_audio(paths: Sequence[Path], sr: int) -> list[np.ndarray]:
    """The voice bank's recordings at `sr`; one that cannot be decoded is skipped (logged), not fatal:
    the line can still be made from the clip's own speech."""
    out = []
    for path in paths:
        try:
            out.append(load_audio(path, sr))
        except EngineError as exc:  # BadInput (no audio) included
            log.warning("voice bank recording %s skipped: %s", path, exc)
    return out


def build_soundtrack(
    clip: Path, analysis: TemplateAnalysis | None, lines: list[SlotLine], out_wav: Path, *,
    stems: Stems | None = None, english: Voice | None = None, sr: int = SR, voice_bank: Sequence[Path] = (),
) -> list[SlotAudio]:
    """Write the clip's soundtrack with every slot's new line to `out_wav`; return the lines' audio.

    `voice_bank`: the celebrity's extra recordings, conversion material beside the clip's own speech."""
    if not lines:
        raise EngineError("build_soundtrack needs at least one dialogue line")
    if stems is not None:
        dialogue, music = decode_channels(stems.dialogue, sr), decode_channels(stems.music, sr)
        length = max(len(dialogue), len(music))
        dialogue = np.pad(dialogue, ((0, length - len(dialogue)), (0, 0)))
        music = np.pad(music, ((0, length - len(music)), (0, 0)))
        voice_track = dialogue
    else:
        voice_track = decode_channels(clip, sr)
    mono = voice_track.mean(axis=1)
    bank = voice_bank_audio(voice_bank, sr)
    made: list[SlotAudio] = []
    for line in sorted(lines, key=lambda item: item.start):
        if line.seconds <= 0 or line.start * sr >= len(voice_track):
            raise BadInput(f"The slot at {line.start:.2f}-{line.end:.2f} s is outside the clip's sound.",
                           code="slot_outside_clip")
        reference = reference_voice(mono, sr, lines, speaker_span(analysis, line.speaker_track))
        made.append(line_audio(line, reference, sr, english, bank=bank))
    for audio in made:
        splice(voice_track, audio.samples, int(round(audio.line.start * sr)), int(CROSSFADE_S * sr))
    mixed = voice_track + music if stems is not None else voice_track
    if analysis is not None:  # stems longer than the picture must not make the ad longer
        mixed = mixed[:int(np.ceil(analysis.info.duration * sr))]
    write_wav(out_wav, _soft_limit(mixed), sr)
    return made


def mouth_motion(analysis: TemplateAnalysis, track_id: int, first: int, last: int) -> float | None:
    """Spread of the inner-mouth opening (in eye widths) over frames [first, last]; None if rarely seen."""
    track = analysis.track(track_id)
    rows = np.flatnonzero((track.frames >= first) & (track.frames <= last))
    if len(rows) < max(3, (last - first + 1) // 2):
        return None
    lm = track.landmarks[rows]
    opening = np.linalg.norm(lm[:, _INNER_TOP, :2] - lm[:, _INNER_BOTTOM, :2], axis=1)
    eyes = np.linalg.norm(lm[:, _EYE_L, :2] - lm[:, _EYE_R, :2], axis=1)
    return float(np.std(opening / np.maximum(eyes, 1e-6)))


def default_speaker(analysis: TemplateAnalysis, start: float, end: float) -> int | None:
    """Who speaks in [start, end]: the visible track whose mouth moves most, else the biggest track."""
    if not analysis.tracks:
        return None
    fps = analysis.info.fps
    first, last = int(start * fps), max(int(start * fps), int(np.ceil(end * fps)) - 1)
    motion = {t.id: mouth_motion(analysis, t.id, first, last) for t in analysis.tracks}
    seen = {k: v for k, v in motion.items() if v is not None}
    if seen:
        return max(seen, key=lambda k: seen[k])
    return analysis.default_track_id()


def music_under_slot(samples: np.ndarray, sr: int, start: float, end: float) -> bool:
    """True when the slot never gets quiet: music or effects under it would be cut with the line.

    Even fluent speech dips between syllables; the slot's quietest 5% of 25 ms frames staying above
    -40 dBFS, and either 20 dB over the clip's floor or over a floor that is itself loud (music from
    start to end), means something else plays there. A heuristic, a warning only: over sliding 0.6 and 1.2 s slots of
    the shared media it flags 82-100% of positions on the three music clips and 0-56% on the eight
    speech clips (most on a noisy TV interview, where fluent speech never drops far).
    """
    level, _ = frame_stats(np.asarray(samples, np.float32), sr)
    if level.size == 0:
        return False
    hop = 0.01
    inside = level[int(start / hop):max(int(end / hop) - 2, int(start / hop) + 1)]
    if inside.size == 0:
        return False
    floor = max(float(np.percentile(level, 2)), -90.0)
    pauses = float(np.percentile(inside, 5))
    return pauses > -40.0 and (floor > -45.0 or pauses > floor + 20.0)
