"""Audio analysis for dialogue slots: where the template speaks, how it looks, how high the voice is.

Everything works on mono float32 samples in [-1, 1]; audio files are decoded by ffmpeg through a pipe
(any container or codec, any rate, downmixed), so nothing here depends on an audio library.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from scipy import signal

from swapengine.errors import EngineError
from swapengine.media.argv import loudnorm_argv
from swapengine.media.audio import encode_f32, load_audio
from swapengine.media.runner import run

Region = tuple[float, float]


def _as_samples(audio: Path | str | np.ndarray, sr: int | None) -> tuple[np.ndarray, int]:
    if isinstance(audio, np.ndarray):
        if sr is None:
            raise EngineError("a sample rate is needed with raw samples")
        samples = audio.astype(np.float32, copy=False)
        return (samples.mean(axis=1) if samples.ndim == 2 else samples), sr
    rate = sr or 16000
    return load_audio(audio, rate), rate


def frame_stats(samples: np.ndarray, sr: int, frame_s: float = 0.025,
                hop_s: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame level (dBFS of the RMS) and zero-crossing rate (crossings per sample)."""
    win, hop = max(int(frame_s * sr), 2), max(int(hop_s * sr), 1)
    if len(samples) < win:
        return np.zeros(0), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(samples, win)[::hop]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    level = 20 * np.log10(rms + 1e-9)
    signs = np.signbit(frames)
    zcr = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)
    return level, zcr


def speech_regions(
    audio: Path | str | np.ndarray,
    sr: int | None = None,
    *,
    hangover_s: float = 0.15,
    min_gap_s: float = 0.3,
    min_region_s: float = 0.12,
    min_range_db: float = 12.0,
) -> list[Region]:
    """Voice activity as (start_s, end_s) spans.

    Thresholds are relative to the clip's own floor and peak, so the same settings work for a studio
    read and a noisy street interview. Loud frames count as speech; moderately loud frames count only
    when their zero-crossing rate is voice-like (not hiss). A span is held open for `hangover_s` after
    its last active frame so word endings are not clipped, near spans are merged and blips dropped.
    A steady signal (less than `min_range_db` between floor and peak) holds no speech.
    """
    samples, rate = _as_samples(audio, sr)
    hop_s = 0.01
    level, zcr = frame_stats(samples, rate, hop_s=hop_s)
    if level.size == 0:
        return []
    floor = max(float(np.percentile(level, 10)), -90.0)
    peak = float(np.percentile(level, 98))
    if peak - floor < min_range_db or peak < -60.0:
        return []
    high = floor + 0.6 * (peak - floor)
    low = floor + 0.2 * (peak - floor)
    active = (level > high) | ((level > low) & (zcr < 0.3))

    hang = int(round(hangover_s / hop_s))
    regions: list[list[int]] = []
    last = -hang - 1
    for i in np.flatnonzero(active):
        if regions and i - last <= hang + 1:
            regions[-1][1] = int(i)
        else:
            regions.append([int(i), int(i)])
        last = int(i)

    duration = len(samples) / rate
    spans: list[list[float]] = []
    for start, end in regions:
        if (end - start) * hop_s + 0.025 < min_region_s:
            continue  # a click or a cough-length blip
        begin = start * hop_s
        finish = min(end * hop_s + 0.025 + hangover_s, duration)
        if spans and begin - spans[-1][1] < min_gap_s:
            spans[-1][1] = finish
        else:
            spans.append([begin, finish])
    return [(round(a, 3), round(b, 3)) for a, b in spans]


def waveform_peaks(samples: np.ndarray, n: int) -> list[float]:
    """`n` absolute peaks (0..1, not rescaled) across the clip, for drawing a timeline."""
    if n <= 0:
        raise EngineError(f"waveform_peaks needs n > 0, got {n}")
    data = np.abs(np.asarray(samples, dtype=np.float32).reshape(-1))
    if data.size == 0:
        return [0.0] * n
    starts = np.minimum((np.arange(n) * data.size) // n, data.size - 1)
    peaks = np.maximum.reduceat(data, starts)
    return [float(p) for p in np.clip(peaks, 0.0, 1.0)]


def pitch_track(
    samples: np.ndarray,
    sr: int,
    fmin: float = 60.0,
    fmax: float = 420.0,
    hop_s: float = 0.005,
    threshold: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """YIN fundamental frequency per frame: (times_s, f0_hz), f0 NaN where unvoiced or quiet.

    The signal is brought to 16 kHz first: voice pitch needs no more, and it keeps the FFTs small.
    """
    work_sr = 16000
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if sr != work_sr:
        x = signal.resample_poly(x, work_sr, sr)
    x = signal.sosfiltfilt(signal.butter(4, 50.0, "highpass", fs=work_sr, output="sos"), x) \
        if x.size > 64 else x
    width = int(0.03 * work_sr)  # integration window: ~2 periods of the lowest voice
    tau_min, tau_max = int(work_sr / fmax), int(np.ceil(work_sr / fmin)) + 1
    span = width + tau_max + 1
    hop = int(hop_s * work_sr)
    if x.size < span:
        return np.zeros(0), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, span)[::hop]
    times = (np.arange(len(frames)) * hop + width / 2) / work_sr
    f0 = np.full(len(frames), np.nan)
    gate = 20 * np.log10(np.sqrt(np.mean(frames[:, :width] ** 2, axis=1)) + 1e-9)
    loud_enough = gate > max(float(np.max(gate)) - 40.0, -65.0)
    nfft = 1 << int(np.ceil(np.log2(2 * span)))
    for begin in range(0, len(frames), 256):
        chunk = frames[begin:begin + 256]
        spec = np.fft.rfft(chunk, nfft)
        head = np.fft.rfft(chunk[:, :width], nfft)
        corr = np.fft.irfft(np.conj(head) * spec, nfft)[:, :tau_max + 1]
        power = np.concatenate([np.zeros((len(chunk), 1)), np.cumsum(chunk ** 2, axis=1)], axis=1)
        lags = np.arange(tau_max + 1)
        energy = power[:, lags + width] - power[:, lags]
        diff = np.maximum(energy[:, :1] + energy - 2 * corr, 0.0)
        cum = np.cumsum(diff[:, 1:], axis=1)
        cmnd = np.ones_like(diff)
        cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cum, 1e-12)
        for row in range(len(chunk)):
            if loud_enough[begin + row]:
                f0[begin + row] = _yin_pick(cmnd[row], tau_min, tau_max, threshold, work_sr)
    voiced = np.isfinite(f0)
    lonely = voiced & ~np.roll(voiced, 1) & ~np.roll(voiced, -1)  # a single voiced frame is a guess
    f0[lonely] = np.nan
    return times, f0


def _yin_pick(cmnd: np.ndarray, tau_min: int, tau_max: int, threshold: float, sr: int) -> float:
    below = np.flatnonzero(cmnd[tau_min:tau_max] < threshold)
    if below.size == 0:
        return float("nan")
    tau = tau_min + int(below[0])
    while tau + 1 < tau_max and cmnd[tau + 1] < cmnd[tau]:
        tau += 1
    a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
    bend = a - 2 * b + c
    offset = 0.5 * (a - c) / bend if bend > 1e-12 else 0.0
    return float(sr / (tau + float(np.clip(offset, -1.0, 1.0))))


def median_pitch(samples: np.ndarray, sr: int, min_voiced_frames: int = 10) -> float | None:
    """Median F0 of voiced frames, or None when too little of the signal is voiced to say.

    Frames an octave off the first median (period doubling in creaky or synthetic voices, the classic
    YIN subharmonic error) are folded back before the final median, which keeps the number stable
    when a short line's frames split between two registers.
    """
    _, f0 = pitch_track(samples, sr)
    voiced = f0[np.isfinite(f0)]
    if voiced.size < min_voiced_frames:
        return None
    centre = float(np.median(voiced))
    folded = np.where(voiced < centre / 1.6, voiced * 2, np.where(voiced > centre * 1.6, voiced / 2, voiced))
    return float(np.median(folded))


_MEL_BANDS = 40


def mel_ltas_db(samples: np.ndarray, sr: int, fmin: float = 80.0, fmax: float = 7600.0) -> np.ndarray:
    """Long-term average spectrum in mel bands (dB): the timbre of a voice, without what is said."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    nper = 1024 if sr > 24000 else 512
    freqs, psd = signal.welch(x, sr, nperseg=min(nper, max(len(x), 16)))
    top = min(fmax, 0.95 * sr / 2)
    mel = 2595 * np.log10(1 + np.array([fmin, top]) / 700)
    edges = 700 * (10 ** (np.linspace(mel[0], mel[1], _MEL_BANDS + 2) / 2595) - 1)
    bands = np.empty(_MEL_BANDS)
    for i in range(_MEL_BANDS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        weight = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
        if weight.sum() == 0:  # a band narrower than one FFT bin: take the nearest bin
            weight[np.argmin(np.abs(freqs - mid))] = 1.0
        bands[i] = np.sum(weight * psd) / weight.sum()
    return 10 * np.log10(bands + 1e-14)


def spectral_distance(a: np.ndarray, sr_a: int, b: np.ndarray, sr_b: int) -> float:
    """Mean absolute difference (dB) of the level-normalised mel LTAS over the band both signals have.

    Level is removed so the number speaks of timbre only; loudness is matched separately.
    """
    top = min(7600.0, 0.95 * min(sr_a, sr_b) / 2)
    la = mel_ltas_db(a, sr_a, fmax=top)
    lb = mel_ltas_db(b, sr_b, fmax=top)
    return float(np.mean(np.abs((la - la.mean()) - (lb - lb.mean()))))


def active_samples(samples: np.ndarray, sr: int) -> np.ndarray:
    """Only the speech spans of a signal (all of it when no span is found)."""
    regions = speech_regions(samples, sr)
    if not regions:
        return samples
    parts = [samples[int(a * sr):int(b * sr)] for a, b in regions]
    return np.concatenate(parts).astype(np.float32)


_LOUDNORM_I = re.compile(r'"input_i"\s*:\s*"(-?[\d.]+|-inf)"')


def loudness_lufs(samples: np.ndarray, sr: int) -> float | None:
    """Integrated EBU R128 loudness from ffmpeg's loudnorm analysis; None if it cannot be measured."""
    stderr = run(loudnorm_argv(sr), input=encode_f32(samples), timeout=300).stderr
    match = _LOUDNORM_I.search(stderr)
    if match is None or match.group(1) == "-inf":
        return None
    value = float(match.group(1))
    return value if value > -70.0 else None
