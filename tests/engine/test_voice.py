"""Voices and conversion: Piper and espeak-ng lines moved towards a template voice, fitted to a slot."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from swapengine.errors import BadInput, EngineError
from swapengine.voice import speech
from swapengine.voice import tts as voice

LINE = "Hello Priya, welcome to the team!"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng (Debian package) is not installed")


@pytest.fixture(scope="module")
def piper() -> voice.PiperVoice:
    return voice.PiperVoice()


@pytest.fixture(scope="module")
def line(piper: voice.PiperVoice) -> voice.Speech:
    return piper.synthesise(LINE)


def fake_template_voice(sr: int, f0: float = 210.0, seconds: float = 4.0) -> np.ndarray:
    """A voice-like reference: a gliding buzz in syllables, dark (strong low harmonics), over room hiss."""
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * sr)) / sr
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    buzz = sum(np.sin(k * phase) / k ** 1.8 for k in range(1, 30))
    syllables = (np.sin(2 * np.pi * 2.5 * t) > -0.3) & (t % 2.0 < 1.6)
    x = 0.25 * buzz * syllables + rng.normal(0, 0.003, t.size)
    return x.astype(np.float32)


def test_piper_line(piper: voice.PiperVoice, line: voice.Speech) -> None:
    assert line.sr == 22050 and line.samples.dtype == np.float32 and line.samples.ndim == 1
    assert 0.8 < line.duration < 4.0
    assert np.max(np.abs(line.samples)) <= 1.0
    assert speech.speech_regions(line.samples, line.sr)
    pitch = speech.median_pitch(line.samples, line.sr)
    assert pitch is not None and 70 < pitch < 250
    assert piper.aligned and line.phonemes is not None
    starts = [a for _, a, _ in line.phonemes]
    assert starts == sorted(starts)
    assert all(0 <= a <= b <= line.duration + 1e-6 for _, a, b in line.phonemes)
    assert {"p", "ɹ"} <= {p for p, _, _ in line.phonemes}


def test_piper_loads_lazily_and_reports_a_missing_model(tmp_path: Path) -> None:
    missing = voice.PiperVoice(tmp_path / "nope.onnx")
    assert missing._voice is None  # constructing a voice loads nothing
    with pytest.raises(EngineError, match="missing"):
        missing.synthesise("Priya")


@needs_espeak
def test_espeak_speaks_hindi() -> None:
    line = voice.EspeakVoice("hi").synthesise("प्रिया, आपका स्वागत है")
    assert line.sr == 22050 and line.samples.dtype == np.float32 and line.phonemes is None
    assert 0.8 < line.duration < 5.0
    assert speech.speech_regions(line.samples, line.sr)
    # a name that starts like an option must be spoken, not parsed
    assert voice.EspeakVoice("en-us").synthesise("-Priya").duration > 0.3


def test_espeak_missing_is_an_engine_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineError, match="espeak-ng is not installed"):
        voice.EspeakVoice("hi").synthesise("प्रिया")


def test_voice_for_text(piper: voice.PiperVoice) -> None:
    assert voice.voice_for_text("Priya", piper) is piper
    hindi = voice.voice_for_text("प्रिया", piper)
    assert isinstance(hindi, voice.EspeakVoice) and hindi.language == "hi"
    tamil = voice.voice_for_text("தமிழ்", piper)
    assert isinstance(tamil, voice.EspeakVoice) and tamil.language == "ta"
    fallback = voice.voice_for_text("Priya", None)
    assert isinstance(fallback, voice.EspeakVoice) and fallback.language == "en-us"


def test_convert_towards_a_synthetic_voice(line: voice.Speech) -> None:
    sr = 16000
    reference = fake_template_voice(sr)
    ref_speech = speech.active_samples(reference, sr)
    out = voice.convert_towards(line, reference, sr)
    assert out.sr == sr and out.samples.dtype == np.float32
    assert out.duration == pytest.approx(line.duration, abs=0.01)
    assert out.phonemes == line.phonemes
    assert np.max(np.abs(out.samples)) <= 0.97 + 1e-6

    target = speech.median_pitch(ref_speech, sr)
    heard = speech.median_pitch(out.samples, sr)
    assert target is not None and heard is not None
    assert abs(heard / target - 1) < 0.10
    raw = voice.resample(line.samples, line.sr, sr)
    assert speech.spectral_distance(out.samples, sr, ref_speech, sr) < \
        0.7 * speech.spectral_distance(raw, sr, ref_speech, sr)
    ref_lufs, out_lufs = speech.loudness_lufs(ref_speech, sr), speech.loudness_lufs(out.samples, sr)
    assert ref_lufs is not None and out_lufs is not None and abs(ref_lufs - out_lufs) < 1.5
    # room tone: the TTS's digital silence now carries the reference's hiss, at about its level
    quiet = out.samples[-int(0.02 * sr):]
    assert 0.3 * 0.003 < float(np.std(quiet)) < 3 * 0.003


def test_convert_needs_a_reference(line: voice.Speech) -> None:
    with pytest.raises(EngineError):
        voice.convert_towards(line, np.zeros(100, np.float32), 16000)


def active_duration(s: voice.Speech) -> float:
    regions = speech.speech_regions(s.samples, s.sr, hangover_s=0.0, min_gap_s=1.0)
    return regions[-1][1] - regions[0][0]


def test_fit_to_slot(line: voice.Speech) -> None:
    spoken = active_duration(line)
    # a slot 20% shorter than the spoken line: stretched, pitch kept, exact length
    slot = 0.8 * spoken
    fitted = voice.fit_to_slot(line, slot)
    assert len(fitted.samples) == round(slot * line.sr)
    assert active_duration(fitted) == pytest.approx(slot, abs=0.12)
    assert fitted.phonemes is not None
    assert all(0 <= a <= b <= slot + 1e-6 for _, a, b in fitted.phonemes)
    assert fitted.phonemes[-1][2] == pytest.approx(slot, abs=0.1)

    # a slot twice as long: slowed by at most 35%, the rest is silence at the end
    long_slot = 2.0 * spoken
    padded = voice.fit_to_slot(line, long_slot)
    assert len(padded.samples) == round(long_slot * line.sr)
    assert active_duration(padded) < 1.35 * spoken + 0.15
    assert np.max(np.abs(padded.samples[-int(0.25 * long_slot * line.sr):])) == 0.0


def test_fit_to_slot_keeps_pitch() -> None:
    sr = 22050
    tone = fake_template_voice(sr, f0=150.0, seconds=1.5)
    for seconds in (1.15, 1.9):  # faster and slower
        fitted = voice.fit_to_slot(voice.Speech(tone, sr), seconds)
        assert speech.median_pitch(fitted.samples, sr) == pytest.approx(
            speech.median_pitch(tone, sr), rel=0.04)


def test_fit_to_slot_refuses_more_than_35_percent(line: voice.Speech) -> None:
    with pytest.raises(BadInput) as info:
        voice.fit_to_slot(line, 0.5 * active_duration(line))
    assert info.value.code == "name_too_long_for_slot"
    assert "shorter" in info.value.user_message
    with pytest.raises(EngineError):
        voice.fit_to_slot(line, 0.0)


def test_conversion_towards_real_voices(shared_media: Path, line: voice.Speech) -> None:
    """Measured on real English voices: pitch within 10%, timbre nearer than the raw TTS."""
    sr = 22050
    rows = []
    for clip in sorted((shared_media / "audio" / "en").glob("*.wav")):
        reference = speech.load_audio(clip, sr, max_seconds=10)
        ref_speech = speech.active_samples(reference, sr)
        out = voice.convert_towards(line, reference, sr)
        raw = voice.resample(line.samples, line.sr, sr)
        target = speech.median_pitch(ref_speech, sr)
        heard = speech.median_pitch(out.samples, sr)
        raw_pitch = speech.median_pitch(raw, sr)
        assert target is not None and heard is not None and raw_pitch is not None
        d_raw = speech.spectral_distance(raw, sr, ref_speech, sr)
        d_out = speech.spectral_distance(out.samples, sr, ref_speech, sr)
        rows.append((clip.name, target, raw_pitch, heard, d_raw, d_out))
        assert abs(heard / target - 1) < 0.10, rows[-1]
        assert d_out < d_raw, rows[-1]
    print("\nclip                         ref F0  TTS F0  out F0   err   dist raw -> out (dB)")
    for name, target, raw_pitch, heard, d_raw, d_out in rows:
        print(f"{name:28s} {target:6.0f} {raw_pitch:7.0f} {heard:7.0f} {abs(heard / target - 1):6.1%}"
              f"   {d_raw:5.2f} -> {d_out:4.2f}")
