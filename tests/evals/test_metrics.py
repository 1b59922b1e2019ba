"""Quality measures: each one responds to exactly the defect it is named after, and is scale-free."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals import metrics
from swapengine.faces.detect import FaceAnalyzer


@pytest.fixture(scope="module")
def face(astronaut_bgr: np.ndarray) -> np.ndarray:
    analyzer = FaceAnalyzer()
    try:
        return analyzer.detect_image(astronaut_bgr)[0].landmarks
    finally:
        analyzer.close()


def talking(face: np.ndarray, n: int = 60, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A face drifting smoothly right while its jaw and lower lip open and close."""
    rng = np.random.default_rng(seed)
    seq = np.repeat(face[None], n, axis=0).astype(np.float64)
    t = np.arange(n)
    seq[:, :, 0] += 0.5 * t[:, None]
    seq[:, 14, 1] += 8 * (1 + np.sin(t / 4))
    seq += rng.normal(0, noise, seq.shape) if noise else 0
    return seq.astype(np.float32)


def test_landmark_error_is_in_inter_ocular_units(face: np.ndarray) -> None:
    iod = metrics.inter_ocular(face)
    assert 60 < iod < 120
    shifted = face.copy()
    shifted[:, 0] += 0.1 * iod
    assert metrics.landmark_error(shifted, face) == pytest.approx(0.1, rel=1e-3)
    assert metrics.landmark_error(face * 2, face * 2) == 0.0
    mouth_only = face.copy()
    mouth_only[list(metrics.MOUTH), 1] += 0.2 * iod
    assert metrics.landmark_error(mouth_only, face, metrics.MOUTH) == pytest.approx(0.2, rel=1e-3)
    assert metrics.landmark_error(mouth_only, face) < 0.03


def test_jitter_ratio_sees_wobble_not_motion(face: np.ndarray) -> None:
    clean = talking(face)
    present = np.ones(len(clean), bool)
    assert metrics.jitter_ratio(clean, clean, present) == pytest.approx(1.0)
    noisy_template = talking(face, noise=0.3, seed=1)
    assert metrics.jitter_ratio(talking(face, noise=0.9, seed=2), noisy_template, present) > 2.0
    assert metrics.jitter_ratio(talking(face, noise=0.3, seed=3), noisy_template, present) == pytest.approx(1, abs=0.15)


def test_acceleration_only_over_consecutive_frames(face: np.ndarray) -> None:
    seq = talking(face, n=30)
    seq[10:20] += 50.0  # a jump inside frames the mask says are missing: must not count
    present = np.ones(30, bool)
    present[10:20] = False
    assert metrics.consecutive_runs(present) == [(0, 10), (20, 30)]
    assert metrics.acceleration(seq, present) < 0.01
    assert np.isnan(metrics.acceleration(seq, np.zeros(30, bool)))


def test_still_mouth_scores_low_on_lips(face: np.ndarray) -> None:
    moving = talking(face)
    lips_t = np.array([metrics.lip_opening(f) for f in moving])
    assert metrics.correlation(lips_t, lips_t) == pytest.approx(1.0)
    assert metrics.range_ratio(lips_t, lips_t) == pytest.approx(1.0)
    pasted = lips_t[0] + 0.1 * (lips_t - lips_t[0])  # a mouth that barely moves
    assert metrics.range_ratio(pasted, lips_t) == pytest.approx(0.1, abs=0.01)
    assert np.isnan(metrics.correlation(np.full(10, 0.2), lips_t[:10]))


def test_box_difference_ignores_the_excluded_face(tmp_path: Path) -> None:
    before = np.full((100, 200, 3), 80, np.uint8)
    after = before.copy()
    after[10:40, 10:40] = 200  # the swapped face
    after[60:70, 150:160] += 5  # a small change on the other person
    exclude = np.zeros((100, 200), bool)
    exclude[5:45, 5:45] = True
    assert metrics.box_difference(before, after, np.array([0, 0, 50, 50]), exclude) == (0.0, 0.0)
    mean, peak = metrics.box_difference(before, after, np.array([140, 50, 180, 90]), exclude)
    assert peak == 5 and mean == pytest.approx(5 * 100 / 1600)


def test_evaluate_end_to_end(talking_clip: Path, astronaut_jpg: Path, tmp_path: Path) -> None:
    """One selfie x one template through the real render: every measure present, report and sheet written."""
    import json

    from evals import evaluate

    media_dir = tmp_path / "media"
    (media_dir / "selfies").mkdir(parents=True)
    (media_dir / "templates").mkdir()
    (media_dir / "selfies" / "astronaut.jpg").symlink_to(astronaut_jpg)
    (media_dir / "templates" / "talking.mp4").symlink_to(talking_clip)
    out = tmp_path / "eval"
    assert evaluate.main(["--media", str(media_dir), "--out", str(out), "--cache", str(tmp_path / "cache"),
                          "--frames", "20", "--samples", "3"]) == 0
    report = json.loads((out / "report.json").read_text())
    (pair,) = report["pairs"]
    assert pair["frames"] == 20 and pair["faces_found"] >= 18 and pair["identity_frames"] == 3
    assert 0.2 < pair["identity_to_selfie"] < pair["identity_to_original"]
    assert 0 < pair["landmark_error"] < 0.2 and 0 < pair["mouth_error"] < 0.2
    assert 0.3 < pair["jitter_ratio"] < 3 and pair["other_faces_unchanged"] is None
    assert report["summary"]["pairs"] == 1 and report["summary"]["failed_pairs"] == 0
    assert report["templates"]["talking.mp4"]["full_analysis_seconds"] > 0
    assert "| talking.mp4 | 1 |" in (out / "report.md").read_text()
    sheet = (out / "report.png").read_bytes()
    assert sheet[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(sheet) < 2_000_000


def test_window_holds_both_people_in_multi_clips() -> None:
    from types import SimpleNamespace

    from evals.evaluate import choose_window

    main = SimpleNamespace(id=0, frames=np.arange(100, 200))
    other = SimpleNamespace(id=1, frames=np.arange(230, 300))
    analysis = SimpleNamespace(info=SimpleNamespace(frame_count=300), tracks=[main, other],
                               default_track_id=lambda: 0)
    assert choose_window(analysis, 50, multi=False) <= 100  # type: ignore[arg-type]
    start = choose_window(analysis, 72, multi=True)  # type: ignore[arg-type]
    assert start < 200 and start + 72 > 230
