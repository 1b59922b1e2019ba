"""Speech analysis: voice activity, timeline peaks, audio extraction, pitch."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from swapengine import media
from swapengine.errors import BadInput
from swapengine.voice import speech

SR = 16000
# Median F0 of each clip as the media catalogue measured it (librosa pYIN), see MANIFEST.md.
CATALOGUE_F0 = {"en01": 171, "en03": 188, "en05": 168, "en07": 131, "en09": 122, "en11": 156,
                "en13": 281, "en15": 257}


def voiced(f0: float, seconds: float, sr: int = SR) -> np.ndarray:
    """A buzzy vowel-like tone: many harmonics falling off, like a glottal source."""
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * f0 * t
    return (0.3 * sum(np.sin(k * phase) / k for k in range(1, 12))).astype(np.float32)


def timeline(parts: list[tuple[float, float]], total: float, noise: float = 0.001) -> np.ndarray:
    x = np.random.default_rng(3).normal(0, noise, int(total * SR)).astype(np.float32)
    for start, end in parts:
        tone = voiced(140, end - start)
        x[int(start * SR):int(start * SR) + len(tone)] += tone
    return x


def test_regions_follow_tones_with_silences() -> None:
    x = timeline([(0.5, 1.5), (2.5, 3.0)], 4.0)
    regions = speech.speech_regions(x, SR)
    assert len(regions) == 2
    (a0, a1), (b0, b1) = regions
    assert abs(a0 - 0.5) < 0.05 and abs(b0 - 2.5) < 0.05
    # the hangover holds each span a little past its end, but not into the next one
    assert 1.5 <= a1 < 1.75 and 3.0 <= b1 < 3.25


def test_short_gaps_merge_and_blips_drop() -> None:
    x = timeline([(0.5, 1.0), (1.2, 1.6), (3.0, 3.04)], 4.0)
    regions = speech.speech_regions(x, SR)
    assert len(regions) == 1
    assert abs(regions[0][0] - 0.5) < 0.05 and 1.6 <= regions[0][1] < 1.85


def test_steady_noise_and_silence_hold_no_speech() -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 3 * SR).astype(np.float32)
    assert speech.speech_regions(noise, SR) == []
    assert speech.speech_regions(np.zeros(3 * SR, np.float32), SR) == []
    assert speech.speech_regions(np.zeros(10, np.float32), SR) == []


def test_hiss_bursts_are_not_speech_but_voiced_bursts_are() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.002, 4 * SR).astype(np.float32)
    x[SR:2 * SR] += rng.normal(0, 0.02, SR).astype(np.float32)  # faint hiss: loud-ish but noise-like
    x[int(2.5 * SR):int(3.5 * SR)] += voiced(120, 1.0)
    regions = speech.speech_regions(x, SR)
    assert len(regions) == 1 and abs(regions[0][0] - 2.5) < 0.05


def test_waveform_peaks() -> None:
    x = np.zeros(1000, np.float32)
    x[100] = 0.5
    x[990] = -0.9
    peaks = speech.waveform_peaks(x, 10)
    assert len(peaks) == 10
    assert peaks[1] == pytest.approx(0.5) and peaks[9] == pytest.approx(0.9)
    assert sum(peaks) == pytest.approx(1.4)
    assert speech.waveform_peaks(np.zeros(0), 4) == [0.0] * 4
    assert len(speech.waveform_peaks(x[:3], 8)) == 8
    assert max(speech.waveform_peaks(np.full(50, 3.0), 5)) == 1.0


@pytest.mark.parametrize("f0", [85.0, 150.0, 240.0])
def test_median_pitch_of_harmonic_tones(f0: float) -> None:
    x = voiced(f0, 1.0, 22050)
    assert speech.median_pitch(x, 22050) == pytest.approx(f0, rel=0.01)


def test_pitch_track_follows_a_glide_and_skips_silence() -> None:
    t = np.arange(SR) / SR
    phase = 2 * np.pi * np.cumsum(100 + 100 * t) / SR
    glide = 0.3 * signal.sawtooth(phase).astype(np.float32)
    x = np.concatenate([np.zeros(SR // 2, np.float32), glide])
    times, f0 = speech.pitch_track(x, SR)
    assert np.all(np.isnan(f0[times < 0.45]))
    inside = (times > 0.6) & (times < 1.4)
    expected = 100 + 100 * (times[inside] - 0.5)
    assert np.nanmax(np.abs(f0[inside] / expected - 1)) < 0.05
    assert np.isfinite(f0[inside]).mean() > 0.95


def test_noise_has_no_pitch() -> None:
    noise = np.random.default_rng(2).normal(0, 0.1, SR).astype(np.float32)
    assert speech.median_pitch(noise, SR) is None


def test_extract_audio(talking_clip: Path, carphone_clip: Path, tmp_path: Path) -> None:
    out = media.extract_audio(talking_clip, tmp_path / "a.wav", sr=22050)
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 22050, 2)
        frames = wav.getnframes()
    assert abs(frames / 22050 - 4.0) < 0.1  # carphone: 120 frames at 29.97 fps
    samples = speech.load_audio(out, 22050)
    assert speech.median_pitch(samples, 22050) == pytest.approx(330, rel=0.02)  # the fixture's sine
    with pytest.raises(BadInput) as info:
        media.extract_audio(carphone_clip, tmp_path / "b.wav")
    assert info.value.code == "no_audio"
    assert not (tmp_path / "b.wav").exists()


def test_loudness_of_a_known_level() -> None:
    tone = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(3 * 48000) / 48000)
    # a 1 kHz sine at -20 dBFS peak reads about -23 LUFS (-20 dBFS peak is -23 dBFS RMS, K-weighting ~0)
    assert speech.loudness_lufs(tone.astype(np.float32), 48000) == pytest.approx(-23.0, abs=0.7)
    assert speech.loudness_lufs(np.zeros(48000, np.float32), 48000) is None


def test_real_english_speech(shared_media: Path) -> None:
    clips = sorted((shared_media / "audio" / "en").glob("*.wav"))
    assert clips
    for clip in clips:
        x = speech.load_audio(clip, SR, max_seconds=12)
        regions = speech.speech_regions(x, SR)
        assert regions, clip.name
        spoken = sum(b - a for a, b in regions)
        assert 0.3 * len(x) / SR < spoken <= len(x) / SR + 0.01, clip.name
        pitch = speech.median_pitch(speech.active_samples(x, SR), SR)
        assert pitch is not None and 70 <= pitch <= 320, (clip.name, pitch)
        catalogue = CATALOGUE_F0[clip.name[:4]]
        assert abs(pitch / catalogue - 1) < 0.25, (clip.name, pitch, catalogue)
        print(f"{clip.name}: {len(regions)} regions, {spoken:.1f} s speech, median F0 {pitch:.0f} Hz "
              f"(catalogue {catalogue})")
    # a path is decoded at 16 kHz by default, giving the same spans as the samples
    short = clips[0]
    assert speech.speech_regions(short) == speech.speech_regions(speech.load_audio(short, SR), SR)
