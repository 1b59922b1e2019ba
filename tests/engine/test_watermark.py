"""watermark: the render id survives what social apps do to a shared ad (CRF 30 re-encode, 480p, a 3 s
excerpt from mid-clip), the mark stays invisible (PSNR >= 40 dB), and clips we did not mark are never
claimed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from swapengine import media
from swapengine.errors import BadInput
from swapengine.provenance.watermark import (
    CODE_BITS,
    Watermarker,
    decode_bits,
    detect,
    detect_file,
    encode_bits,
    grid_for,
    info_bits,
)
from tests.conftest import run_ffmpeg

KEY = b"test-key-0"
PAYLOAD = 0xA5C3_0F1E
X264 = ("-an", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")


def frames(path: Path) -> Iterator[np.ndarray]:
    with media.FrameReader(path, media.probe(path)) as reader:
        yield from reader


@pytest.fixture(scope="module")
def source(carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Carphone upscaled to 704x576 (a 4 s talking head)."""
    out = tmp_path_factory.mktemp("wm") / "source.mp4"
    run_ffmpeg("-i", str(carphone_clip), "-vf", "scale=704:576:flags=lanczos", *X264, "-crf", "16", str(out))
    return out


@pytest.fixture(scope="module")
def rendered(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """(marked, unmarked, psnr): both encoded by FrameWriter like a render; psnr of the raw marked frames."""
    folder = tmp_path_factory.mktemp("wm-render")
    info = media.probe(source)
    marked, plain = folder / "marked.mp4", folder / "plain.mp4"
    wm = Watermarker(PAYLOAD, KEY)
    errors = []
    with media.FrameWriter(marked, info) as w_marked, media.FrameWriter(plain, info) as w_plain:
        for i, frame in enumerate(frames(source)):
            stamped = wm.embed(frame, i)
            assert stamped.shape == frame.shape and stamped.dtype == np.uint8
            errors.append(np.mean((stamped.astype(np.float32) - frame) ** 2))
            w_marked.write(stamped)
            w_plain.write(frame)
    return marked, plain, float(10 * np.log10(255.0**2 / np.mean(errors)))


def attacked(src: Path, name: str) -> Path:
    before, after = ATTACKS[name]
    out = src.with_name(f"{src.stem}.{name}.mp4")
    run_ffmpeg(*before, "-i", str(src), *after, *X264, str(out))
    return out


ATTACKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "crf30": ((), ("-crf", "30")),
    "480p": ((), ("-vf", "scale=-2:480", "-crf", "23")),
    "trim3s_mid": (("-ss", "0.7"), ("-t", "3", "-crf", "23")),
    "all_three": (("-ss", "0.9"), ("-t", "3", "-vf", "scale=-2:480", "-crf", "30")),
}


def test_invisible(rendered: tuple[Path, Path, float]) -> None:
    assert rendered[2] >= 40.0


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_payload_survives(rendered: tuple[Path, Path, float], attack: str) -> None:
    path = attacked(rendered[0], attack)
    result = detect_file(path, KEY)
    accuracy = float(np.mean(np.array(info_bits(result.decoded)) == np.array(info_bits(PAYLOAD))))
    assert accuracy >= 0.99, (attack, accuracy, result)
    assert result.found and result.payload == PAYLOAD, result


def test_unmarked_and_wrong_key_not_found(
    rendered: tuple[Path, Path, float], astronaut_bgr: np.ndarray
) -> None:
    marked, plain, _ = rendered
    crf30 = attacked(plain, "crf30")
    for key in (KEY, b"another-key", b"k3", b"k4"):
        for path in (plain, crf30):
            result = detect_file(path, key)
            assert not result.found and result.payload is None, (key, path.name, result)
            assert result.confidence < 6.0
    assert not detect_file(marked, b"not-our-key").found
    still = [np.roll(astronaut_bgr, 7 * i, axis=1) for i in range(30)]
    for key in (KEY, b"k5", b"k6"):
        assert not detect(still, key).found


def test_code_round_trip_and_error_correction() -> None:
    rng = np.random.default_rng(3)
    for payload in (0, 1, PAYLOAD, 2**32 - 1):
        soft = encode_bits(payload)
        assert soft.shape == (CODE_BITS,) and CODE_BITS == 108
        assert decode_bits(soft) == (payload, True)
        # The convolutional code (free distance 10) corrects scattered hard errors ...
        flipped = soft.copy()
        flipped[[5, 30, 61, 95]] *= -1
        assert decode_bits(flipped) == (payload, True)
        # ... and soft Viterbi decodes a noisy codeword with ~15% of its bits wrong.
        noisy = soft + rng.normal(0.0, 0.8, CODE_BITS).astype(np.float32)
        assert np.mean(np.sign(noisy) != soft) > 0.05
        assert decode_bits(noisy) == (payload, True)
    # A random soft word decodes to some id, but the CRC refuses it (the detector then also needs z).
    crc_passes = sum(decode_bits(rng.normal(size=CODE_BITS).astype(np.float32))[1] for _ in range(300))
    assert crc_passes <= 1
    with pytest.raises(ValueError):
        encode_bits(2**32)


def test_grid_follows_frame_size() -> None:
    assert grid_for(1920, 1080) == 64 and grid_for(224, 224) == 64
    assert grid_for(176, 144) == 32 and grid_for(100, 64) == 16


def test_odd_sizes_embed_and_tiny_frames_are_refused() -> None:
    wm = Watermarker(7, KEY)
    frame = np.random.default_rng(1).integers(0, 256, (101, 133, 3), dtype=np.uint8)
    stamped = wm.embed(frame, 0)
    assert stamped.shape == frame.shape and not np.array_equal(stamped, frame)
    with pytest.raises(BadInput):
        wm.embed(np.zeros((40, 60, 3), np.uint8), 0)


def test_small_frames_use_a_coarser_grid(carphone_clip: Path, tmp_path: Path) -> None:
    """Carphone at its own 176x144: 32 x 32 cells; the detector finds which grid carries the mark."""
    info = media.probe(carphone_clip)
    marked = tmp_path / "small.mp4"
    wm = Watermarker(PAYLOAD, KEY)
    with media.FrameWriter(marked, info) as writer:
        for i, frame in enumerate(frames(carphone_clip)):
            writer.write(wm.embed(frame, i))
    result = detect_file(marked, KEY)
    assert result.found and result.payload == PAYLOAD and result.grid == 32, result
