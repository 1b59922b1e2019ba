"""Per-template lip-sync: audio -> the celebrity's lip shape, learnt from the celebrity's own footage.

As in "Synthesizing Obama", the mapping is learnt per person: a small 1-D conv net over a +-0.2 s log-mel
window predicts a few PCA coefficients of the pose-free lip shape (swapengine.lips.mouth). It trains on CPU in
seconds to minutes at template analysis and is saved next to the analysis; `resync_slot` then re-animates
only a slot's frames, easing in and out so the cut is invisible.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from torch import nn

from swapengine.errors import BadInput, EngineError
from swapengine.faces.analysis import TemplateAnalysis
from swapengine.lips import mouth
from swapengine.lips.mouth import LipPCA, MouthRenderer
from swapengine.progress import Progress, ProgressCallback
from swapengine.voice import audiofeat

FORMAT = 1


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread, then restore the caller's setting.

    The net is tiny: with two or more OpenMP threads on a busy 2-core box each step measured ~100x slower
    (0.17 s against 2 ms), and one thread also makes the results independent of the machine's cores.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def model_directory(analysis: TemplateAnalysis, track_id: int) -> Path:
    return Path(analysis.directory) / f"mouth_{track_id}"


class MouthNet(nn.Module):
    """Audio window (batch, window, n_mels) -> lip PCA coefficients (batch, k)."""

    def __init__(self, n_mels: int, window: int, k: int, width: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_mels, width, 5, padding=2), nn.GELU(),
            nn.Conv1d(width, width, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv1d(width, width, 5, stride=2, padding=2), nn.GELU(),
        )
        length = (((window - 1) // 2) // 2) + 1
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(width * length, hidden), nn.GELU(),
                                  nn.Linear(hidden, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x.transpose(1, 2)))


@dataclass
class MouthModel:
    track_id: int
    fps: float
    spec: audiofeat.FeatureSpec
    reference: np.ndarray  # (len(mouth.STABLE), 2) canonical mean face
    pca: LipPCA
    mel_mean: np.ndarray
    mel_std: np.ndarray
    silence: np.ndarray  # raw log-mel of the clip's quiet frames, pads windows beyond the audio
    net: MouthNet
    smooth: float = 1.0  # temporal Gaussian sigma (frames) on the predicted coefficients
    metrics: dict[str, Any] = field(default_factory=dict)
    closed: np.ndarray | None = None  # (40, 3) the speaker's own shut-lips shape, for p/b/m

    def features(self, samples: np.ndarray, sr: int, n_frames: int) -> np.ndarray:
        mel = audiofeat.log_mel(samples, sr, self.spec)
        windows = audiofeat.frame_windows(mel, self.fps, n_frames, self.spec, pad=self.silence)
        return ((windows - self.mel_mean) / self.mel_std).astype(np.float32)

    def predict_features(self, windows: np.ndarray) -> np.ndarray:
        """(n, 40, 2) canonical lip shapes for consecutive frames' feature windows."""
        self.net.eval()
        with one_thread(), torch.no_grad():
            out = self.net(torch.from_numpy(np.ascontiguousarray(windows))).numpy()
        coeffs = out * float(self.pca.scales[0]) * float(self.metrics.get("gain", 1.0))
        if self.smooth > 0 and len(coeffs) > 1:
            coeffs = gaussian_filter1d(coeffs, self.smooth, axis=0, mode="nearest")
        return self.pca.decode(coeffs)

    def predict(self, samples: np.ndarray, sr: int, n_frames: int,
                phonemes: Sequence[tuple[str, float, float]] | None = None, offset_s: float = 0.0) -> np.ndarray:
        """Lip shapes for `n_frames` video frames starting at the first sample of `samples`.

        `phonemes` (the TTS's (phoneme, start_s, end_s), times from the line's start; the first frame
        starts `offset_s` into the line) shut the lips on p, b and m, which audio alone often misses.
        """
        shapes = self.predict_features(self.features(samples, sr, n_frames))
        if phonemes and self.closed is not None:
            shapes = close_for_bilabials(shapes, phonemes, self.fps, self.closed, offset_s)
        return shapes

    def save(self, directory: Path) -> None:
        """Written aside and renamed into place, so a reader never sees half a model."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            torch.save(self.net.state_dict(), staging / "net.pt")
            np.savez(staging / "arrays.npz", reference=self.reference, pca_mean=self.pca.mean,
                     pca_components=self.pca.components, pca_scales=self.pca.scales, mel_mean=self.mel_mean,
                     mel_std=self.mel_std, silence=self.silence,
                     **({"closed": self.closed} if self.closed is not None else {}))
            meta = {"format": FORMAT, "track_id": self.track_id, "fps": self.fps, "smooth": self.smooth,
                    "spec": dataclasses.asdict(self.spec), "metrics": self.metrics}
            (staging / "model.json").write_text(json.dumps(meta, indent=1))
            if directory.exists():
                shutil.rmtree(directory)
            os.rename(staging, directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


BILABIALS = frozenset({"p", "b", "m"})


def closed_shape(shapes: np.ndarray) -> np.ndarray:
    """The mean of the speaker's own most-shut lip shapes (lowest tenth of inner-lip opening)."""
    gap = mouth.opening(shapes)
    return shapes[gap <= np.percentile(gap, 10)].mean(axis=0).astype(np.float32)


def close_for_bilabials(shapes: np.ndarray, phonemes: Sequence[tuple[str, float, float]], fps: float,
                        closed: np.ndarray, offset_s: float = 0.0) -> np.ndarray:
    """Blend the shapes to `closed` around each p/b/m, fully at its middle, over its length + 1 frame."""
    out = np.array(shapes, np.float32)
    n = len(out)
    for phoneme, begin, end in phonemes:
        if phoneme.strip().lower() not in BILABIALS:
            continue
        middle = ((begin + end) / 2 - offset_s) * fps - 0.5  # frame i is centred at (i + 0.5) / fps
        half = max(1.5, (end - begin) * fps / 2 + 1.0)
        for i in range(max(int(np.floor(middle - half)), 0), min(int(np.ceil(middle + half)) + 1, n)):
            w = float(np.clip(1.0 - abs(i - middle) / half, 0.0, 1.0))
            out[i] = (1 - w) * out[i] + w * closed
    return out


def load_mouth_model(directory: Path | str) -> MouthModel:
    directory = Path(directory)
    if not (directory / "model.json").exists():
        raise EngineError(f"no lip-sync model in {directory}: run train_mouth_model at template analysis")
    meta = json.loads((directory / "model.json").read_text())
    if meta["format"] != FORMAT:
        raise EngineError(f"lip-sync model format {meta['format']} in {directory}, expected {FORMAT}")
    spec = audiofeat.FeatureSpec(**meta["spec"])
    with np.load(directory / "arrays.npz") as z:
        arrays = {k: z[k] for k in z.files}
    pca = LipPCA(arrays["pca_mean"], arrays["pca_components"], arrays["pca_scales"])
    net = MouthNet(spec.n_mels, spec.window, len(pca.scales))
    net.load_state_dict(torch.load(directory / "net.pt", weights_only=True))
    net.eval()
    return MouthModel(int(meta["track_id"]), float(meta["fps"]), spec, arrays["reference"], pca,
                      arrays["mel_mean"], arrays["mel_std"], arrays["silence"], net, float(meta["smooth"]),
                      meta["metrics"], arrays.get("closed"))


def _fit(net: MouthNet, x: np.ndarray, y: np.ndarray, val: int, epochs: int, seed: int,
         report: Progress) -> dict[str, Any]:
    """Minibatch AdamW with light augmentation for a fixed number of epochs.

    The held-back tail only sets the shrink gain: picking the best epoch on it chose epoch 0-3 on half the
    dev templates (its 15-25 frames are too few to rank epochs), leaving a nearly untrained net that
    answered a new voice with noise; 50 fixed epochs scored the same 5-fold error (0.937 of the mean
    shape's) and respond to the sound.
    """
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    xtr, ytr = (xt[:-val], yt[:-val]) if val else (xt, yt)
    xva, yva = (xt[-val:], yt[-val:]) if val else (xt, yt)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    batch = 64
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            xb = xtr[idx]
            xb = xb + 0.15 * torch.randn(xb.shape, generator=gen) \
                + 0.4 * (torch.rand((len(idx), 1, 1), generator=gen) - 0.5)
            loss = nn.functional.mse_loss(net(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        report.report("lips_train", (epoch + 1) / epochs)
    net.eval()
    with torch.no_grad():
        pred = net(xva)
        val_loss = float(nn.functional.mse_loss(pred, yva))
        p, y_val = pred.numpy().ravel(), yva.numpy().ravel()
    # Shrink towards the mean shape by what the held-back frames support: on a few seconds of footage
    # the net is often right in direction but overconfident in size.
    gain = float(np.clip(p @ y_val / max(float(p @ p), 1e-9), 0.0, 1.0)) if val else 1.0
    return {"val_loss": round(val_loss, 5), "epochs": epochs, "gain": round(gain, 3),
            "train_frames": int(len(xtr)), "val_frames": int(val)}


def train_mouth_model(
    clip: Path, analysis: TemplateAnalysis, track_id: int, ctx: object = None,
    progress: ProgressCallback | None = None, *, frames: Sequence[int] | np.ndarray | None = None, epochs: int = 50,
    seed: int = 0, save: bool = True,
) -> MouthModel:
    """Learn this track's audio-to-lips mapping from the clip itself (deterministic for a given seed).

    `frames` restricts training to those frame indices (the self-dub evaluation holds some out); the
    model is saved under the analysis directory unless `save` is False. `ctx` is accepted for the analysis
    call convention; nothing in it is needed (the landmarks come from the analysis).
    """
    started = time.monotonic()
    report = Progress(progress, {"lips_features": (0.0, 0.1), "lips_train": (0.1, 1.0)})
    report.report("lips_features", 0.0)
    track = analysis.track(track_id)
    fps = analysis.info.fps
    samples = audiofeat.clip_samples(clip)
    spec = audiofeat.FeatureSpec()
    duration_frames = int(len(samples) / audiofeat.SR * fps)
    rows = mouth.usable_rows(track, mouth.track_rows(track.frames, frames))
    rows = rows[track.frames[rows] < duration_frames]
    if len(rows) < 20:
        raise BadInput("The speaker's face is visible for too little of the clip to learn their lip movements.",
                       "too_little_speech_footage")
    reference = mouth.mean_face(track.landmarks)
    shapes = mouth.lip_shapes(track.landmarks[rows], reference)
    pca = LipPCA.fit(shapes)
    mel = audiofeat.log_mel(samples, audiofeat.SR, spec)
    level = mel.mean(axis=1)
    silence = mel[level <= np.percentile(level, 5)].mean(axis=0).astype(np.float32)
    windows = audiofeat.frame_windows(mel, fps, int(track.frames[rows].max()) + 1, spec, pad=silence)
    windows = windows[track.frames[rows]]
    centre = windows[:, spec.context]
    mel_mean = centre.mean(axis=0).astype(np.float32)
    mel_std = (centre.std(axis=0) + 1e-3).astype(np.float32)
    x = ((windows - mel_mean) / mel_std).astype(np.float32)
    y = (pca.encode(shapes) / pca.scales[0]).astype(np.float32)
    report.report("lips_features", 1.0)
    val = max(len(rows) // 7, 10) if len(rows) >= 60 else 0
    with one_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = MouthNet(spec.n_mels, spec.window, len(pca.scales))
        metrics = _fit(net, x, y, val, epochs, seed, report)
    metrics["seconds"] = round(time.monotonic() - started, 2)
    metrics["components"] = len(pca.scales)
    model = MouthModel(track_id, fps, spec, reference.astype(np.float32), pca, mel_mean, mel_std, silence, net,
                       metrics=metrics, closed=closed_shape(shapes))
    if save:
        model.save(model_directory(analysis, track_id))
    return model


def ease_weights(n: int, ease: int) -> np.ndarray:
    """1 inside the slot, a raised-cosine ramp over its first and last `ease` frames (never exactly 0)."""
    ease = max(0, min(ease, n // 3))
    w = np.ones(n)
    if ease:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ease) + 1) / (ease + 1))
        w[:ease] = ramp
        w[n - ease:] = ramp[::-1]
    return w


def resync_slot(
    frames: Iterable[np.ndarray], start_frame: int, end_frame: int, samples: np.ndarray, sr: int,
    model: MouthModel, renderer: MouthRenderer, ease: int = 4,
) -> Iterator[np.ndarray]:
    """Yield every frame of `frames` (index 0 first); those in [start_frame, end_frame) get a new mouth.

    `samples` is the slot's new audio, starting at start_frame. Frames outside the slot are yielded as the
    very objects received; slot frames are new arrays, so a reader's ring buffer is never written to.
    """
    n = end_frame - start_frame
    if n <= 0:
        yield from frames
        return
    shapes = model.predict(samples, sr, n)
    plan = renderer.plan(start_frame, shapes, ease_weights(n, ease))
    for index, frame in enumerate(frames):
        if start_frame <= index < end_frame:
            yield renderer.render(frame, index, plan)
        else:
            yield frame
