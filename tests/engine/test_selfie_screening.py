"""Selfie screening: covered, cut-off, sunglassed and non-photographic faces are refused with their own code
and an actionable line; ordinary variants of a good selfie (B&W, dim, turned, flipped, clear glasses) pass.

The core cases draw on scikit-image's astronaut (a real photo in a pip package) with evals.selfie_checkset's
drawing functions; the real-media cases skip when ../shared/media is absent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from evals import selfie_checkset as cs
from swapengine.errors import BadInput
from swapengine.faces import screening as selfiescreen
from swapengine.faces.detect import FaceAnalyzer, analyse_selfie, load_image

SCREEN_CODES = ("face_covered", "face_cut_off", "eyes_hidden", "not_a_photo")


@pytest.fixture(scope="module")
def analyzer() -> Iterator[FaceAnalyzer]:
    a = FaceAnalyzer()
    yield a
    a.close()


@pytest.fixture(scope="module")
def astronaut2x(astronaut_bgr: np.ndarray) -> np.ndarray:
    """The astronaut at twice the size: her face (92 px) is at the size limit, a crop would go under it."""
    return cv2.resize(astronaut_bgr, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def astro_landmarks(astronaut2x: np.ndarray, analyzer: FaceAnalyzer) -> np.ndarray:
    return analyzer.detect_image(astronaut2x)[0].landmarks


def outcome(image: np.ndarray, analyzer: FaceAnalyzer) -> str:
    try:
        analyse_selfie(image, analyzer)
    except BadInput as exc:
        assert len(exc.user_message) > 20 and "\n" not in exc.user_message
        return exc.code
    return "ok"


def test_astronaut_passes_and_reports_the_measurements(astronaut_bgr: np.ndarray, analyzer: FaceAnalyzer) -> None:
    selfie = analyse_selfie(astronaut_bgr, analyzer)
    assert {"cut_off", "covered", "eyes", "flat_shades", "yellow"} <= set(selfie.quality)
    assert selfie.quality["cut_off"] == 0.0


@pytest.mark.parametrize(
    "variant,code",
    [
        ("mask_white", "face_covered"),
        ("mask_blue", "face_covered"),
        ("mask_black", "face_covered"),
        ("mask_pattern", "face_covered"),
        ("scarf_knit", "face_covered"),
        ("cut_left_30", "face_cut_off"),
        ("cut_right_30", "face_cut_off"),
        ("cut_top_15", "face_cut_off"),
        ("cut_bottom_30", "face_cut_off"),
        ("sunglasses_round", "eyes_hidden"),
        ("sunglasses_aviator", "eyes_hidden"),
        ("cartoon", "not_a_photo"),
    ],
)
def test_bad_variants_are_refused_with_their_code(
    astronaut2x: np.ndarray, astro_landmarks: np.ndarray, analyzer: FaceAnalyzer, variant: str, code: str
) -> None:
    make = next(v[3] for v in cs.VARIANTS if v[0] == variant)
    image = make(astronaut2x, astro_landmarks, f"astronaut/{variant}", 170.0)
    assert outcome(image, analyzer) == code


@pytest.mark.parametrize(
    "variant",
    ["bw", "dark", "bw_dark", "rot_p12", "rot_m15", "flip", "jpeg_q45", "clear_glasses_rect",
     "clear_glasses_round", "tight_crop"],
)
def test_good_variants_pass(
    astronaut2x: np.ndarray, astro_landmarks: np.ndarray, analyzer: FaceAnalyzer, variant: str
) -> None:
    make = next(v[3] for v in cs.VARIANTS if v[0] == variant)
    image = make(astronaut2x, astro_landmarks, f"astronaut/{variant}", 170.0)
    assert outcome(image, analyzer) == "ok"


def test_posterised_flat_colour_version_is_not_a_photo(astronaut2x: np.ndarray, analyzer: FaceAnalyzer) -> None:
    flat = cv2.pyrMeanShiftFiltering(astronaut2x, 12, 40)
    flat = (flat // 64) * 64 + 32
    assert outcome(flat.astype(np.uint8), analyzer) == "not_a_photo"


def test_cameraman_sample_passes(analyzer: FaceAnalyzer) -> None:
    """The admin's built-in grey sample (adstudio.ads.samples) must stay usable."""
    from skimage import data

    grey = cv2.resize(data.camera(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    assert outcome(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), analyzer) == "ok"


def test_cut_off_is_measured_from_landmarks_beyond_the_frame() -> None:
    lm = np.zeros((478, 3), np.float32)
    lm[:, 0] = np.linspace(100, 300, 478)
    lm[:, 1] = np.linspace(100, 350, 478)
    assert selfiescreen.cut_off((400, 400, 3), lm) == 0.0
    lm[list(selfiescreen.FACE_OVAL)[:3], 0] = -40  # 40 px out, face 340 px wide
    assert selfiescreen.cut_off((400, 400, 3), lm) == pytest.approx(40 / 340, abs=0.01)


def test_every_refusal_has_one_actionable_line() -> None:
    for code in SCREEN_CODES:
        message = getattr(selfiescreen.ScreenMessage, code)
        assert "\n" not in message and message.endswith(".") and "Please" in message


def test_screen_is_deterministic_and_cheap(astronaut2x: np.ndarray, astro_landmarks: np.ndarray) -> None:
    first = selfiescreen.measure(astronaut2x, astro_landmarks)
    t = time.perf_counter()
    for _ in range(5):
        again = selfiescreen.measure(astronaut2x, astro_landmarks)
    assert again == first
    assert (time.perf_counter() - t) / 5 < 0.1  # ~5 ms measured; 100 ms is the budget


def test_refusal_carries_the_measurements(
    astronaut2x: np.ndarray, astro_landmarks: np.ndarray, analyzer: FaceAnalyzer
) -> None:
    image = cs.surgical_mask(astronaut2x, astro_landmarks, (235, 238, 240), "astronaut/mask")
    with pytest.raises(selfiescreen.ScreenRefusal) as info:
        analyse_selfie(image, analyzer)
    assert info.value.code == "face_covered" and info.value.measurements["covered"] > selfiescreen.COVERED


# --- real media (../shared/media) ------------------------------------------------------------------------

def _photos(media: Path) -> list[Path]:
    return [p for folder in ("selfies", "identity") for p in sorted((media / folder).iterdir())
            if p.suffix.lower() in (".jpg", ".jpeg", ".png")]


def test_no_real_photo_is_refused(shared_media: Path, analyzer: FaceAnalyzer) -> None:
    refused = {p.name: outcome(load_image(p), analyzer) for p in _photos(shared_media)}
    assert len(refused) >= 30
    assert {k: v for k, v in refused.items() if v != "ok"} == {}


@pytest.mark.parametrize("name", ["b10_cartoon_anime.jpg", "b12_painting_monalisa.jpg"])
def test_drawing_and_painting_are_not_photos(shared_media: Path, analyzer: FaceAnalyzer, name: str) -> None:
    assert outcome(load_image(shared_media / "bad" / name), analyzer) == "not_a_photo"


def test_dog_has_no_face(shared_media: Path, analyzer: FaceAnalyzer) -> None:
    assert outcome(load_image(shared_media / "bad" / "b13_animal_dog.jpg"), analyzer) == "no_face"


def test_generated_check_set_on_real_selfies(shared_media: Path, analyzer: FaceAnalyzer) -> None:
    """Tuned styles on every dev selfie: a floor under the numbers in docs/eval/selfie_screening.md."""
    only = {"mask_blue", "scarf_knit", "cut_left_15", "cut_bottom_15", "sunglasses_round", "bw", "flip",
            "clear_glasses_rect"}
    got: dict[str, list[bool]] = {}
    for case in cs.generate(shared_media, analyzer, only=only):
        right = outcome(case.image, analyzer) == case.expected
        got.setdefault(case.variant, []).append(right)
    rates = {k: sum(v) / len(v) for k, v in got.items()}
    assert rates["bw"] >= 0.9 and rates["flip"] == 1.0 and rates["clear_glasses_rect"] == 1.0, rates
    assert rates["mask_blue"] >= 0.9 and rates["scarf_knit"] >= 0.9, rates
    assert rates["cut_left_15"] >= 0.9 and rates["cut_bottom_15"] >= 0.9, rates
    assert rates["sunglasses_round"] >= 0.9, rates
