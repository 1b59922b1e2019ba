"""Speaker-similarity judge: Resemblyzer's GE2E speaker encoder (Apache-2.0, weights in its wheel).

`Judge.embed(samples, sr)` gives a 256-d L2-normed speaker embedding, `Judge.similarity(a, b)` their
cosine. The network (3-layer LSTM 40->256, linear 256->256, ReLU, L2 norm) and `pretrained.pt` are
Resemblyzer's, and the embedding is computed as `VoiceEncoder.embed_utterance(preprocess_wav(wav, sr))`
does: resample to 16 kHz, raise the level to -30 dBFS (never lower it), drop long silences with
webrtcvad (mode 3, 30 ms windows, 8-window average, 6-window dilation), 40-band mel power spectrogram
(25 ms Hann window, 10 ms hop), 1.6 s partials at 1.3 per second, their embeddings averaged.

Resemblyzer's own `audio.py` imports librosa at module level only for `librosa.resample` and
`librosa.feature.melspectrogram`; librosa pulls in numba, llvmlite, scikit-learn, soxr, soundfile,
pooch... (~100 MB) into a venv whose numpy must stay 1.26. So this module never imports the
`resemblyzer` package: it only finds its directory to read `pretrained.pt`, and computes the same mel
spectrogram with numpy (librosa's Slaney mel filters, centred STFT with zero padding; checked against
librosa 0.11 to float precision, see tests/evals/test_speaker_judge.py) and resamples with scipy's
polyphase filter (librosa uses soxr: the two differ only near Nyquist).
"""

from __future__ import annotations

import importlib.util
import struct
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
from scipy import ndimage, signal

SR = 16000
MEL_WINDOW = 400  # 25 ms
MEL_HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
VAD_WINDOW = 480  # 30 ms
VAD_AVERAGE = 8
VAD_MAX_SILENCE = 6
NORM_DBFS = -30.0
INT16_MAX = 2 ** 15 - 1


class JudgeUnavailable(RuntimeError):
    """resemblyzer (its weights), webrtcvad or torch is not installed."""


def weights_path() -> Path:
    """`pretrained.pt` inside the installed resemblyzer wheel, found without importing the package."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise JudgeUnavailable("resemblyzer is not installed (pip install --no-deps resemblyzer==0.1.4)")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "pretrained.pt"
        if path.is_file():
            return path
    raise JudgeUnavailable("resemblyzer is installed without its pretrained.pt")


def available() -> str | None:
    """None when the judge can run, else why not."""
    try:
        weights_path()
        import torch  # noqa: F401
        import webrtcvad  # noqa: F401
    except (JudgeUnavailable, ImportError) as exc:
        return str(exc)
    return None


def resample(samples: np.ndarray, sr_from: int, sr_to: int = SR) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if sr_from == sr_to:
        return x
    g = gcd(int(sr_from), int(sr_to))
    return signal.resample_poly(x.astype(np.float64), sr_to // g, sr_from // g).astype(np.float32)


@lru_cache(maxsize=4)
def mel_filters(sr: int = SR, n_fft: int = MEL_WINDOW, n_mels: int = N_MELS) -> np.ndarray:
    """librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels) (Slaney scale and area norm)."""

    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        mel = f / (200.0 / 3)
        log_t = f >= 1000.0
        return np.where(log_t, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64)
        f = m * (200.0 / 3)
        log_t = m >= 15.0
        return np.where(log_t, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), f)

    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, len(fft_freqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power, as librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400,
    hop_length=160, n_mels=40) transposed (centred frames, zero padding, periodic Hann window)."""
    y = np.asarray(wav, dtype=np.float32)
    pad = MEL_WINDOW // 2
    y = np.pad(y, (pad, pad), mode="constant")
    n_frames = 1 + (len(y) - MEL_WINDOW) // MEL_HOP
    frames = np.lib.stride_tricks.as_strided(
        y, shape=(n_frames, MEL_WINDOW), strides=(y.strides[0] * MEL_HOP, y.strides[0]))
    window = signal.get_window("hann", MEL_WINDOW, fftbins=True).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filters().T).astype(np.float32)


def normalize_volume(wav: np.ndarray, target_dbfs: float = NORM_DBFS) -> np.ndarray:
    """Raise (never lower) the level to `target_dbfs` RMS, as resemblyzer does."""
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * INT16_MAX) ** 2))) if wav.size else 0.0
    if rms <= 0:
        return wav
    change = target_dbfs - 20 * np.log10(rms / INT16_MAX)
    if change < 0:
        return wav
    return (wav * (10 ** (change / 20))).astype(np.float32)


def trim_long_silences(wav: np.ndarray) -> np.ndarray:
    """resemblyzer.audio.trim_long_silences: webrtcvad mode 3, smoothed and dilated."""
    import webrtcvad

    wav = wav[:len(wav) - (len(wav) % VAD_WINDOW)]
    if wav.size == 0:
        return wav
    pcm = struct.pack(f"{len(wav)}h", *(np.round(wav * INT16_MAX)).astype(np.int16))
    vad = webrtcvad.Vad(mode=3)
    flags = np.array([vad.is_speech(pcm[s * 2:(s + VAD_WINDOW) * 2], sample_rate=SR)
                      for s in range(0, len(wav), VAD_WINDOW)], dtype=float)
    width = VAD_AVERAGE
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    ret = np.cumsum(padded, dtype=float)
    ret[width:] = ret[width:] - ret[:-width]
    mask = np.round(ret[width - 1:] / width).astype(bool)
    mask = ndimage.binary_dilation(mask, np.ones(VAD_MAX_SILENCE + 1))
    return wav[np.repeat(mask, VAD_WINDOW)]


def preprocess(samples: np.ndarray, sr: int) -> np.ndarray:
    """resemblyzer.preprocess_wav for an in-memory waveform. Clipped to [-1, 1] first (int16 VAD)."""
    wav = np.clip(resample(samples, sr, SR), -1.0, 1.0)
    wav = np.clip(normalize_volume(wav), -1.0, 1.0)
    return trim_long_silences(wav)


def partial_slices(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[slice]:
    """VoiceEncoder.compute_partial_slices (mel-frame slices)."""
    n_frames = int(np.ceil((n_samples + 1) / MEL_HOP))
    frame_step = int(np.round((SR / rate) / MEL_HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, steps, frame_step)]
    last = slices[-1]
    coverage = (n_samples - last.start * MEL_HOP) / (PARTIAL_FRAMES * MEL_HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))


class Judge:
    """Resemblyzer's GE2E encoder on the CPU. One instance loads the 17 MB weights once (~0.1 s)."""

    def __init__(self, threads: int | None = 1) -> None:
        reason = available()
        if reason is not None:
            raise JudgeUnavailable(reason)
        import torch
        from torch import nn

        if threads:
            torch.set_num_threads(threads)

        class Encoder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
                self.linear = nn.Linear(256, 256)
                self.relu = nn.ReLU()

            def forward(self, mels: torch.Tensor) -> torch.Tensor:
                _, (hidden, _) = self.lstm(mels)
                raw = self.relu(self.linear(hidden[-1]))
                return raw / torch.norm(raw, dim=1, keepdim=True)

        checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
        self._torch = torch
        self.model = Encoder()
        self.model.load_state_dict(checkpoint["model_state"], strict=False)  # drops the GE2E loss's w, b
        self.model.eval()

    def embed_preprocessed(self, wav: np.ndarray) -> np.ndarray:
        if wav.size == 0:
            raise ValueError("nothing to embed: the waveform holds no speech")
        slices = partial_slices(len(wav))
        need = slices[-1].stop * MEL_HOP
        if need >= len(wav):
            wav = np.pad(wav, (0, need - len(wav)))
        mel = mel_spectrogram(wav)
        mels = np.stack([mel[s] for s in slices])
        with self._torch.no_grad():
            partial = self.model(self._torch.from_numpy(mels)).numpy()
        raw = partial.mean(axis=0)
        return (raw / np.linalg.norm(raw)).astype(np.float32)

    def embed(self, samples: np.ndarray, sr: int) -> np.ndarray:
        """The speaker embedding of a waveform (mono float, any sample rate)."""
        return self.embed_preprocessed(preprocess(samples, sr))

    def similarity(self, a: np.ndarray, sr_a: int, b: np.ndarray, sr_b: int) -> float:
        """Cosine similarity of two waveforms' embeddings (same speaker: ~0.75-0.95; GE2E embeddings are
        non-negative, so unrelated voices still score ~0.5-0.7)."""
        return cosine(self.embed(a, sr_a), self.embed(b, sr_b))
