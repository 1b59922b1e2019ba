"""Occluders kept in front: glasses frames drawn on the template stay dark after the swap, a bare face
grows no glasses, hand masks follow the fingers, and whatever the keep mask covers shows the template."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from swapengine import media
from swapengine.faces.detect import FACE_OVAL, FaceAnalyzer, SelfieFace, analyse_selfie
from swapengine.swap.blend import Job, finish_batch
from swapengine.swap.occluders import OccluderFinder, glasses_evidence, hand_mask
from swapengine.swap.swapper import FaceSwapper
from swapengine.swap.warp import EYES


@pytest.fixture(scope="module")
def selfie(astronaut_bgr: np.ndarray) -> SelfieFace:
    analyzer = FaceAnalyzer()
    try:
        return analyse_selfie(astronaut_bgr, analyzer)
    finally:
        analyzer.close()


@pytest.fixture(scope="module")
def run(talking_clip: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Six consecutive tracked frames (frame, landmarks) from the middle of the clip."""
    out = []
    analyzer = FaceAnalyzer()
    with media.FrameReader(talking_clip, media.probe(talking_clip)) as reader, \
            analyzer.video_session(max_faces=1) as session:
        for index, frame in enumerate(reader):
            faces = session.process(frame)
            if faces and index >= 30 and index % 2 == 0:
                out.append((frame.copy(), faces[0].landmarks))
            if len(out) == 6:
                break
    assert len(out) == 6
    return out


def draw_glasses(frame: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round dark frames round both eyes, a bridge and temple arms; returns the image and the frame mask."""
    pts = landmarks[:, :2]
    face_w = float(np.ptp(pts[list(FACE_OVAL), 0]))
    t = max(int(round(0.02 * face_w)), 2)
    rims = np.zeros(frame.shape[:2], np.uint8)
    ends = []
    for ring in EYES:
        p = pts[list(ring)]
        w = float(np.linalg.norm(p[8] - p[0]))
        c = p.mean(axis=0) + (0, 0.1 * w)
        cv2.ellipse(rims, tuple(np.round(c).astype(int)), (int(0.9 * w), int(0.65 * w)), 0, 0, 360, (255,), t)
        ends.append((c[0] - 0.9 * w, c[0] + 0.9 * w, c[1]))
    (l0, l1, ly), (r0, r1, ry) = sorted(ends)
    cv2.line(rims, (int(l1), int(ly)), (int(r0), int(ry)), (255,), t)
    cv2.line(rims, (int(l0), int(ly)), (int(pts[234, 0]), int(pts[234, 1])), (255,), t)
    cv2.line(rims, (int(r1), int(ry)), (int(pts[454, 0]), int(pts[454, 1])), (255,), t)
    out = frame.copy()
    out[rims > 0] = (30, 30, 35)
    return out, rims > 0


def swap_run(swapper: FaceSwapper, frames: list[np.ndarray], marks: list[np.ndarray]) -> list[np.ndarray]:
    return [swapper.apply(f, m) for f, m in zip(frames, marks, strict=True)]


def test_glasses_frames_stay_dark(selfie: SelfieFace, run: list[tuple[np.ndarray, np.ndarray]]) -> None:
    drawn = [draw_glasses(f, m) for f, m in run]
    frames, marks = [d[0] for d in drawn], [m for _, m in run]
    outs = swap_run(FaceSwapper(selfie), frames, marks)
    today = FaceSwapper(selfie)
    today._occluders = OccluderFinder(hands=False, glasses=False)
    painted = swap_run(today, frames, marks)
    frame, truth = drawn[-1]
    # Frame pixels the swap could have changed: inside the face, off the eyes (kept from the template anyway).
    changed = np.abs(painted[-1].astype(int) - frame).mean(axis=2) > 12
    core = cv2.erode(truth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    at_risk = core & changed
    assert at_risk.sum() > 100, int(at_risk.sum())  # without the detector most frame pixels are painted over
    light = cv2.cvtColor(outs[-1], cv2.COLOR_BGR2LAB)[..., 0]
    assert float(np.mean(light[at_risk] < 70)) > 0.85


def test_bare_face_grows_no_glasses(run: list[tuple[np.ndarray, np.ndarray]]) -> None:
    finder = OccluderFinder(hands=False)
    for frame, landmarks in run:
        pts = landmarks[:468, :2]
        oval = pts[list(FACE_OVAL)]
        x0, y0 = np.floor(oval.min(axis=0)).astype(int)
        x1, y1 = np.ceil(oval.max(axis=0)).astype(int)
        face_w = float(max(x1 - x0, y1 - y0))
        _, presence = glasses_evidence(frame[y0:y1, x0:x1], pts - (x0, y0), face_w)
        assert presence < 0.05
        assert finder.keep_mask(frame, (x0, y0, x1, y1), pts - (x0, y0), face_w) is None


def test_hand_mask_follows_fingers_not_their_hull() -> None:
    # An open hand, fingers spread: wrist at the bottom, five rays up.
    wrist = np.array([100.0, 180.0])
    pts = [wrist]
    for angle, length in ((-1.0, 60), (-0.45, 95), (-0.15, 105), (0.15, 100), (0.45, 85)):
        direction = np.array([np.sin(angle), -np.cos(angle)])
        knuckle = wrist + direction * 45
        pts += [knuckle + direction * length * f for f in (0.0, 0.35, 0.7, 1.0)]
    hand = np.array(pts)  # mediapipe's order: wrist, then thumb, index, middle, ring, pinky (4 each)
    mask = hand_mask((220, 220), [hand], face_w=200.0)
    assert mask[int(hand[12, 1]), int(hand[12, 0])] > 0.9  # a fingertip
    assert mask[int(hand[0, 1]) - 20, int(hand[0, 0])] > 0.9  # the palm
    # Half-way up between the index and middle fingers' tips: the face shows between spread fingers.
    gap = (hand[8] + hand[12]) / 2 * 0.5 + (hand[6] + hand[10]) / 2 * 0.5
    hull = np.zeros((220, 220), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(hand).astype(np.int32)), (255,))
    assert hull[int(gap[1]), int(gap[0])] > 0
    assert mask[int(gap[1]), int(gap[0])] < 0.1
    assert not hand_mask((220, 220), [], 200.0).any()


def _blob_job(selfie: SelfieFace, frame: np.ndarray, landmarks: np.ndarray) -> tuple[FaceSwapper, Job]:
    swapper = FaceSwapper(selfie)
    swapper._occluders = OccluderFinder(hands=False, glasses=False)
    job = swapper._prepare(frame, landmarks[:468].astype(np.float64))
    assert job is not None
    keep = np.zeros(job.alpha.shape, np.float32)
    h, w = keep.shape
    cv2.circle(keep, (w // 2, int(h * 0.72)), max(h // 8, 4), (1.0,), -1)  # over the mouth and chin
    job.keep = keep
    return swapper, job


def test_keep_mask_shows_the_template(selfie: SelfieFace, run: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Whatever the keep mask covers (a skin-coloured hand over the mouth) is the template's pixel, on
    the OpenCV path and the torch path alike, while the rest of the face is the fan's."""
    frame, landmarks = run[0]
    swapper, job = _blob_job(selfie, frame, landmarks)
    assert job.keep is not None
    inside = (job.keep > 0.99) & job.region
    assert inside.sum() > 50
    out = swapper._finish(job)
    assert np.abs(out[inside].astype(int) - job.crop[inside]).max() <= 1
    rest = job.hard & (job.keep == 0)
    assert np.abs(out[rest].astype(int) - job.crop[rest]).mean() > 8
    swapper, job = _blob_job(selfie, frame, landmarks)
    batched = finish_batch(swapper, [job], "cpu")[0]
    assert np.abs(batched[inside].astype(int) - job.crop[inside]).max() <= 1
