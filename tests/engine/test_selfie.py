"""Selfie intake: one good face is accepted; each bad upload gets its code and an actionable message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from swapengine.errors import BadInput
from swapengine.faces.detect import N_LANDMARKS, FaceAnalyzer, analyse_selfie, load_image


@pytest.fixture(scope="module")
def analyzer() -> Iterator[FaceAnalyzer]:
    a = FaceAnalyzer()
    yield a
    a.close()


def rejected(image: np.ndarray, analyzer: FaceAnalyzer) -> BadInput:
    with pytest.raises(BadInput) as info:
        analyse_selfie(image, analyzer)
    assert len(info.value.user_message) > 20
    return info.value


def test_astronaut_is_one_good_face(astronaut_jpg: Path, analyzer: FaceAnalyzer) -> None:
    selfie = analyse_selfie(load_image(astronaut_jpg), analyzer)
    assert selfie.landmarks.shape == (N_LANDMARKS, 3)
    assert selfie.landmarks.dtype == np.float32
    x0, y0, x1, y1 = selfie.box
    assert 88 < x1 - x0 < 200 and x0 >= 0 and y1 <= selfie.image.shape[0]
    assert set(selfie.quality) >= {"sharpness", "brightness", "face_px", "yaw"}
    assert abs(selfie.quality["yaw"]) < 0.3
    # Nose tip lies between the eyes horizontally and below them: pixel coordinates, upright face.
    nose, left_eye, right_eye = selfie.landmarks[1], selfie.landmarks[33], selfie.landmarks[263]
    assert min(left_eye[0], right_eye[0]) < nose[0] < max(left_eye[0], right_eye[0])
    assert nose[1] > left_eye[1] and nose[1] > right_eye[1]


def test_big_selfie_is_downscaled(astronaut_bgr: np.ndarray, analyzer: FaceAnalyzer) -> None:
    big = cv2.resize(astronaut_bgr, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    selfie = analyse_selfie(big, analyzer)
    assert selfie.quality["face_px"] > 512
    width = selfie.box[2] - selfie.box[0]
    assert 400 <= width <= 513
    assert selfie.image.shape[0] < big.shape[0]


def test_noise_has_no_face(analyzer: FaceAnalyzer) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert rejected(noise, analyzer).code == "no_face"


def test_two_people(astronaut_bgr: np.ndarray, analyzer: FaceAnalyzer) -> None:
    error = rejected(np.hstack([astronaut_bgr, astronaut_bgr]), analyzer)
    assert error.code == "several_faces"
    assert "Only one person" in error.user_message


def test_tiny_face(astronaut_bgr: np.ndarray, analyzer: FaceAnalyzer) -> None:
    small = cv2.resize(astronaut_bgr, (150, 150), interpolation=cv2.INTER_AREA)
    error = rejected(small, analyzer)
    assert error.code == "face_too_small"
    assert "Move closer" in error.user_message


def test_blurry(astronaut_bgr: np.ndarray, analyzer: FaceAnalyzer) -> None:
    error = rejected(cv2.GaussianBlur(astronaut_bgr, (0, 0), 3), analyzer)
    assert error.code == "too_blurry"


def test_dark(astronaut_bgr: np.ndarray, analyzer: FaceAnalyzer) -> None:
    dark = (astronaut_bgr.astype(np.float32) * 0.18).astype(np.uint8)
    assert rejected(dark, analyzer).code == "too_dark"


def test_exif_rotated_jpeg_is_turned_upright(astronaut_bgr: np.ndarray, tmp_path: Path,
                                             analyzer: FaceAnalyzer) -> None:
    upright = np.ascontiguousarray(astronaut_bgr[:, 40:440])  # not square, so a lost rotation shows
    stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "sideways.jpg"
    Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB)).save(path, quality=95, exif=exif)
    image = load_image(path)
    assert image.shape == upright.shape
    assert np.abs(image.astype(int) - upright.astype(int)).mean() < 4
    selfie = analyse_selfie(image, analyzer)
    assert selfie.landmarks[1, 1] > selfie.landmarks[33, 1]


def test_truncated_jpeg(astronaut_jpg: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    path.write_bytes(astronaut_jpg.read_bytes()[:20_000])
    with pytest.raises(BadInput) as info:
        load_image(path)
    assert info.value.code == "corrupt_image"


def test_text_file_named_like_a_photo(tmp_path: Path) -> None:
    path = tmp_path / "selfie.jpg"
    path.write_text("this is not a picture\n" * 50)
    with pytest.raises(BadInput) as info:
        load_image(path)
    assert info.value.code == "not_image"


def test_image_named_like_text_is_read_by_content(astronaut_jpg: Path, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(astronaut_jpg.read_bytes())
    assert load_image(path).shape == (512, 512, 3)


def test_decompression_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(path)
    assert path.stat().st_size < 100_000
    with pytest.raises(BadInput) as info:
        load_image(path)
    assert info.value.code == "image_too_large"


def test_bomb_below_our_limit_but_above_pillows(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(path)
    with pytest.raises(BadInput) as info:
        load_image(path, max_pixels=10**10)
    assert info.value.code == "image_too_large"
