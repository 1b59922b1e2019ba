"""Expression signals (evals.expression_signals): each signal answers to exactly the movement it is named
after, in inter-ocular units, whatever the face's roll, size and place; the series comparisons and the
per-pair targets on arrays with known answers. No ../shared media needed."""

from __future__ import annotations

import numpy as np
import pytest

from evals import expression_signals as es

IOD = 90.0  # outer eye corners 36 and 45 of the synthetic face below


def face68() -> np.ndarray:
    """A frontal 68-point face: eye centres at (+-34, 0), brows 20 px above the eye corners, lid gap 10,
    mouth corners 50 apart at y=60 on the lip centre line, inner-lip gap 4."""
    p = np.zeros((68, 2))
    p[0:17] = np.stack([np.linspace(-60, 60, 17), 40 + 40 * np.sin(np.linspace(0, np.pi, 17))], axis=1)
    p[17:22] = np.stack([np.linspace(-45, -15, 5), np.full(5, -20.0)], axis=1)
    p[22:27] = np.stack([np.linspace(15, 45, 5), np.full(5, -20.0)], axis=1)
    p[27:36] = [[0, 5], [0, 15], [0, 25], [0, 35], [-10, 40], [-5, 42], [0, 43], [5, 42], [10, 40]]
    p[36:42] = [[-45, 0], [-38, -5], [-30, -5], [-23, 0], [-30, 5], [-38, 5]]
    p[42:48] = [[23, 0], [30, -5], [38, -5], [45, 0], [38, 5], [30, 5]]
    p[48:60] = [[-25, 60], [-15, 54], [-5, 53], [0, 54], [5, 53], [15, 54], [25, 60], [15, 66], [5, 68],
                [0, 68], [-5, 68], [-15, 66]]
    p[60:68] = [[-20, 60], [-10, 58], [0, 58], [10, 58], [20, 60], [10, 62], [0, 62], [-10, 62]]
    return p


def named(points: np.ndarray) -> dict[str, float]:
    return dict(zip(es.SIGNALS, es.signals(points), strict=True))


def test_rest_face_signals_in_inter_ocular_units() -> None:
    s = named(face68())
    assert s["brow"] == pytest.approx(20 / IOD)
    assert s["eye"] == pytest.approx(10 / IOD)
    assert s["width"] == pytest.approx(50 / IOD)
    assert s["lift"] == pytest.approx(0.0, abs=1e-12)
    assert s["lips"] == pytest.approx(4 / IOD)


def test_each_movement_moves_only_its_signal() -> None:
    rest = named(face68())
    raised = face68()
    raised[17:27, 1] -= 9  # brows up by 0.1 IOD
    smile = face68()
    smile[[48, 54], 1] -= 4.5  # corners up by 0.05 IOD
    smile[48, 0], smile[54, 0] = -29.5, 29.5  # and 9 px wider
    shut = face68()
    shut[[37, 38, 40, 41, 43, 44, 46, 47], 1] = 0.0
    frown = face68()
    frown[[48, 54], 1] += 2.7
    for face, changed, delta in ((raised, "brow", 0.1), (shut, "eye", -10 / IOD), (frown, "lift", -0.03)):
        now = named(face)
        assert now[changed] - rest[changed] == pytest.approx(delta, abs=1e-9)
        assert all(now[k] == pytest.approx(rest[k], abs=1e-9) for k in es.SIGNALS if k != changed)
    s = named(smile)
    assert s["lift"] == pytest.approx(0.05, abs=1e-9) and s["width"] - rest["width"] == pytest.approx(0.1, abs=1e-9)
    assert s["brow"] == pytest.approx(rest["brow"]) and s["lips"] == pytest.approx(rest["lips"])


def test_jaw_opening_is_lips_not_lift() -> None:
    rest = named(face68())
    opened = face68()
    opened[[65, 66, 67], 1] += 18  # lower inner lip drops 18 px; corners stay where the lips meet
    opened[[64, 60], 1] += 9
    opened[[48, 54], 1] += 9
    now = named(opened)
    assert now["lips"] - rest["lips"] == pytest.approx(18 / IOD, abs=1e-9)
    assert now["lift"] == pytest.approx(0.0, abs=1e-9)


def test_signals_ignore_roll_scale_and_place() -> None:
    face = face68()
    face[17:27, 1] -= 6
    a = np.deg2rad(25)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    moved = 2.5 * face @ rot.T + [400.0, 123.0]
    np.testing.assert_allclose(es.signals(moved), es.signals(face), atol=1e-9)


def test_compare_correlation_spread_and_leak() -> None:
    t = np.linspace(0, 4 * np.pi, 40)
    template = np.stack([0.2 + 0.05 * np.sin(t + k) for k in range(5)], axis=1)
    selfie = np.array([0.35, 0.2, 0.2, 0.25, 0.2])
    # Half the template's movement, around a rest that keeps 40% of the selfie's offset on the first signal.
    output = template.mean(axis=0) + 0.5 * (template - template.mean(axis=0))
    output[:, 0] += 0.4 * (selfie[0] - template[:, 0].mean())
    got = es.compare(output, template, selfie)
    assert got["brow"]["correlation"] == pytest.approx(1.0)
    assert got["brow"]["spread_ratio"] == pytest.approx(0.5, abs=1e-9)
    assert got["brow"]["leak"] == pytest.approx(0.4, abs=1e-9)
    assert np.isnan(got["eye"]["leak"])  # selfie within LEAK_MIN_OFFSET of the template's mean
    assert got["lift"]["leak"] == pytest.approx(0.0, abs=1e-9)
    assert es.expression_correlation(got) == pytest.approx(1.0)
    frozen = output.copy()
    frozen[:, 1] = 0.3
    assert es.expression_correlation(es.compare(frozen, template)) == pytest.approx(0.75)  # a still eye counts 0


def test_leak_reads_the_selfie_expression_held() -> None:
    template = np.array([0.0, 0.1, 0.0, -0.1])
    assert es.leak(template + 0.1, template, 0.1) == pytest.approx(1.0)
    assert es.leak(template, template, 0.1) == 0.0
    assert np.isnan(es.leak(template + 0.01, template, 0.01))


def good_pair() -> dict:
    sig = {k: {"correlation": 0.95, "spread_ratio": 1.0} for k in es.SIGNALS}
    return {"signals": sig, "expression_correlation": 0.95, "identity_same_share": 0.9,
            "closer_to_selfie_share": 1.0}


def test_misses_name_each_failed_target() -> None:
    assert es.misses(good_pair(), 1.0) == []
    pair = good_pair()
    pair["signals"]["brow"]["spread_ratio"] = 0.3
    pair["signals"]["lips"]["correlation"] = float("nan")
    pair["signals"]["eye"]["spread_ratio"] = 0.1  # eye spread has no target
    pair["identity_same_share"] = 0.5
    found = es.misses(pair, 1.2)
    assert [m.split()[0] + " " + m.split()[1] for m in found] == [
        "expression corr", "brow spread", "lips corr", "identity<0.6 share"]


def test_extremes_pick_the_template_rows() -> None:
    series = np.zeros((6, 5))
    series[2, 0], series[4, 1], series[1, 2], series[3, 4] = 1, -1, 1, 1
    assert es.extremes(series) == {"brows raised": 2, "eyes shut": 4, "widest smile": 1, "mouth open": 3}


def test_dlib_reads_a_real_face_in_the_mesh_box(astronaut_bgr: np.ndarray) -> None:
    """On a real photo: the predictor's outer eye corners land on the mesh's, and the signals are those of a
    resting face (a smile, lips barely parted)."""
    from swapengine.faces.detect import FaceAnalyzer

    analyzer = FaceAnalyzer()
    try:
        mesh = analyzer.detect_image(astronaut_bgr)[0].landmarks
    finally:
        analyzer.close()
    pts = es.Landmarker68().points(astronaut_bgr, mesh)
    assert pts is not None and pts.shape == (68, 2)
    iod = np.linalg.norm(mesh[33, :2] - mesh[263, :2])
    assert np.linalg.norm(pts[36] - mesh[33, :2]) < 0.15 * iod and np.linalg.norm(pts[45] - mesh[263, :2]) < 0.15 * iod
    s = named(pts)
    assert 0.1 < s["brow"] < 0.5 and 0.02 < s["eye"] < 0.2 and 0.4 < s["width"] < 0.9 and s["lips"] < 0.2
