"""Sound out of any clip through ffmpeg: float32 samples (mono or every channel) and WAV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from swapengine.errors import BadInput, EngineError
from swapengine.media.argv import decode_audio_argv, extract_audio_argv
from swapengine.media.runner import Finished, run

NO_SOUND = "This clip has no sound track, so there is no voice to work with."


def _no_audio(stderr: str) -> bool:
    return "matches no streams" in stderr or "does not contain any stream" in stderr


def _decoded(argv: list[str], message: str) -> Finished:
    done = run(argv, timeout=600, check=False)
    if done.returncode != 0:
        if _no_audio(done.stderr):
            raise BadInput(message, code="no_audio")
        raise done.error()
    return done


def load_audio(path: Path | str, sr: int, max_seconds: float | None = None) -> np.ndarray:
    """Decode the first audio stream of any file to mono float32 at `sr`."""
    if not Path(path).is_file():
        raise EngineError(f"no such file: {path}")
    done = _decoded(decode_audio_argv(path, sr, max_seconds), NO_SOUND)
    return np.frombuffer(done.stdout, dtype="<f4").astype(np.float32)


def decode_channels(path: Path | str, sr: int, channels: int = 2) -> np.ndarray:
    """(samples, channels) float32: stereo kept so the music around dialogue slots stays as it was."""
    done = _decoded(decode_audio_argv(path, sr, channels=channels),
                    "This clip has no sound track, so there is no line to replace.")
    return np.frombuffer(done.stdout, dtype="<f4").reshape(-1, channels).astype(np.float32)


def extract_audio(clip: Path | str, out_wav: Path | str, sr: int = 22050) -> Path:
    """The template's sound as a mono 16-bit WAV; a partial file is removed on failure."""
    out = Path(out_wav)
    done = run(extract_audio_argv(clip, out, sr), timeout=600, check=False)
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        if _no_audio(done.stderr):
            raise BadInput(NO_SOUND, code="no_audio")
        raise done.error()
    return out


def encode_f32(samples: np.ndarray) -> bytes:
    """Mono samples as the raw little-endian float32 the argv builders' `pipe:0` inputs read."""
    return np.ascontiguousarray(samples, dtype="<f4").tobytes()


def decode_f32(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
