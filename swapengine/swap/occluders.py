"""Things worn or held in front of the template's face that the swap must leave in front: glasses frames
and hands (skin-coloured ones too, which the skin-colour model cannot tell from a cheek).

Both give a 0..1 "keep" mask in the face crop: 1 shows the template pixel over the fan's face.

- Glasses: frames are thin dark structures on a ring around each eye, across the nose bridge and out to
  the temples, where a bare face is smooth skin. A black-hat filter (closing minus image) finds thin dark
  lines; brows and lashes are cut out by the template's own landmarks. Whether the person wears glasses at
  all is decided from how much of the bridge and of the rims under the eyes the lines cover, smoothed over
  the track, so wrinkles on a bare face do not flicker in and out.
- Hands: mediapipe Hands (its models ship inside the wheel) in tracking mode, on a box around the face.
  The mask is the hand's skeleton drawn thick plus its palm, not a convex hull: the gaps between spread
  fingers stay the fan's face. The tracker costs ~10 ms a call whatever the face size, so while no hand
  reaches into the face box it runs every `HAND_EVERY` frames, and every `HAND_TRACK_EVERY` while one does;
  between calls the last hands found are kept.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from swapengine.swap.warp import BROWS, EYES

# Black-hat response (8-bit lightness steps) from which a thin dark line counts as a frame, and full.
FRAME_DARK = (9.0, 18.0)
# Covered share of the lower-rim / bridge columns that says "glasses" (smoothstep bounds; presence is the
# product). On 200 frames of 10 dev clips without glasses the product never left 0 (rims reach 0.72 and
# the bridge 0.79, never together); on t07 (glasses) its median is 1. Set while looking at the synthetic
# glasses of evals.occlusion_eval's first two seeds; its --seed-offset cases are held out.
RIM_PRESENCE = (0.4, 0.65)
BRIDGE_PRESENCE = (0.5, 0.75)
# Glasses presence follows the frames at this rate (EMA): a clip's glasses do not come and go.
PRESENCE_RATE = 0.3
# While no hand is seen, look for one every this many frames (palm detection is ~10 ms a call).
HAND_EVERY = 4
# The bridge's band: raised this much above the inner eye corners, this tall (eye widths).
BRIDGE_BAND = (0.05, 0.6)
# The lower rim's band starts outside this ellipse (semi-axes in eye widths, round the lens centre).
RIM_INNER = (0.8, 0.5)
# While a hand covers at least HAND_CLOSE of the face box, look every HAND_TRACK_EVERY frames and keep the
# last landmarks in between (a hand moves little in one frame; its mask is drawn finger-thick).
HAND_CLOSE = 0.08
HAND_TRACK_EVERY = 2
# Hand box: the face box grown by this share of the face width on every side.
HAND_REACH = 0.6
_PALM = (0, 1, 5, 9, 13, 17)


def _smoothstep(x: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    t = np.clip((np.asarray(x, np.float32) - lo) / (hi - lo), 0.0, 1.0)
    return np.asarray(t * t * (3 - 2 * t), np.float32)


def _eye_geometry(tpts: np.ndarray, ring: tuple[int, ...]) -> tuple[np.ndarray, float, float]:
    """Centre, width and tilt (radians) of one eye from its lid ring."""
    p = tpts[list(ring), :2]
    a, b = p[0], p[8]  # the two corners (rings start at one corner, reach the other half-way)
    width = float(np.linalg.norm(b - a)) or 1.0
    angle = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
    if angle > np.pi / 2:
        angle -= np.pi
    elif angle < -np.pi / 2:
        angle += np.pi
    return p.mean(axis=0), width, angle


def glasses_zone(shape: tuple[int, int], tpts: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Where frames can be (uint8 mask), the bridge band, and each eye's lower-rim band, in crop pixels:
    an ellipse round each eye (lenses are wider and taller than the eye), the bridge between the inner
    corners and the temple arms out from the outer corners; brows and the eyes themselves cut out."""
    zone = np.zeros(shape, np.uint8)
    holes = np.zeros(shape, np.uint8)
    rims = []
    geo = [_eye_geometry(tpts, ring) for ring in EYES]
    ew = float(np.mean([g[1] for g in geo]))
    for (centre, width, angle), ring in zip(geo, EYES, strict=True):
        axes = (int(round(1.05 * width)), int(round(0.95 * width)))
        c = (int(round(centre[0])), int(round(centre[1] + 0.1 * width)))
        tilt = float(np.degrees(angle))
        cv2.ellipse(zone, c, axes, tilt, 0, 360, (255,), -1)
        # The lower rim's band: the zone's lower sector, away from the lower lid (lashes, eye bags).
        rim = np.zeros(shape, np.uint8)
        cv2.ellipse(rim, c, axes, tilt, 30, 150, (255,), -1)
        inner_axes = (int(round(RIM_INNER[0] * width)), int(round(RIM_INNER[1] * width)))
        cv2.ellipse(rim, c, inner_axes, tilt, 0, 360, (0,), -1)
        rims.append(rim)
        hull = cv2.convexHull(np.round(tpts[list(ring), :2]).astype(np.int32))
        cv2.fillConvexPoly(holes, hull, (255,))
    inner = [tpts[EYES[0][8], :2], tpts[EYES[1][0], :2]]
    outer = [tpts[EYES[0][0], :2], tpts[EYES[1][8], :2]]
    bridge = np.zeros(shape, np.uint8)
    mid_lo = inner[0] + 0.2 * (inner[1] - inner[0])
    mid_hi = inner[0] + 0.8 * (inner[1] - inner[0])
    cv2.line(bridge, tuple(np.round(mid_lo - (0, BRIDGE_BAND[0] * ew)).astype(int)),
             tuple(np.round(mid_hi - (0, BRIDGE_BAND[0] * ew)).astype(int)), (255,), max(int(BRIDGE_BAND[1] * ew), 3))
    zone |= bridge
    for o, i in zip(outer, inner, strict=True):
        away = (o - i) / (np.linalg.norm(o - i) or 1.0)
        cv2.line(zone, tuple(np.round(o).astype(int)), tuple(np.round(o + away * 0.9 * ew).astype(int)), (255,),
                 max(int(0.3 * ew), 3))
    k = max(int(0.1 * ew), 1) * 2 + 1
    holes = np.asarray(cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))), np.uint8)
    for brow in BROWS:
        hull = cv2.convexHull(np.round(tpts[list(brow), :2]).astype(np.int32))
        cv2.fillConvexPoly(holes, hull, (255,))
    keep_out = holes > 0
    zone[keep_out] = 0
    bridge[keep_out] = 0
    for rim in rims:
        rim[keep_out] = 0
    return zone, bridge, rims


def _coverage(lines: np.ndarray, band: np.ndarray) -> float:
    """Share of the band's columns in which a line pixel lies."""
    cols = band.any(axis=0)
    if cols.sum() < 3:
        return 0.0
    return float((lines & (band > 0)).any(axis=0)[cols].mean())


def glasses_evidence(crop: np.ndarray, tpts: np.ndarray, face_w: float) -> tuple[np.ndarray, float]:
    """Per-pixel frame evidence (0..1, float32) in the crop, and this frame's glasses presence (0..1)."""
    shape = (crop.shape[0], crop.shape[1])
    zone, bridge, rims = glasses_zone(shape, tpts)
    if not zone.any():
        return np.zeros(shape, np.float32), 0.0
    ys, xs = np.nonzero(zone)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    light = cv2.cvtColor(crop[y0:y1, x0:x1], cv2.COLOR_BGR2LAB)[..., 0]
    k = max(int(face_w * 0.03), 2) * 2 + 1
    dark = cv2.morphologyEx(light, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    evidence = np.zeros(shape, np.float32)
    evidence[y0:y1, x0:x1] = _smoothstep(dark.astype(np.float32), *FRAME_DARK)
    evidence *= zone > 0
    lines = evidence > 0.5
    # The better-seen rim: a turned head hides one lens's lower rim behind the nose or the frame edge.
    rim = max(_coverage(lines, r) for r in rims)
    presence = float(_smoothstep(rim, *RIM_PRESENCE) * _smoothstep(_coverage(lines, bridge), *BRIDGE_PRESENCE))
    return evidence, presence


def glasses_mask(evidence: np.ndarray, presence: float, face_w: float) -> np.ndarray:
    """Keep mask of the frames: the evidence, widened by a pixel for the anti-aliased edge, softened."""
    if presence <= 0.0:
        return np.zeros_like(evidence)
    grown = cv2.dilate(evidence, np.ones((3, 3), np.uint8))
    gain = 1.3 * min(2.0 * presence, 1.0)  # past half-sure, the frames are kept whole
    return np.clip(cv2.GaussianBlur(grown, (0, 0), max(face_w * 0.004, 0.5)) * gain, 0.0, 1.0)


def hand_mask(shape: tuple[int, int], hands: list[np.ndarray], face_w: float) -> np.ndarray:
    """Keep mask of hands given as (21, 2) landmark arrays in crop pixels: the palm polygon and the
    finger bones drawn as thick as a finger, softened at the edge."""
    import mediapipe as mp

    mask = np.zeros(shape, np.uint8)
    for pts in hands:
        palm = pts[list(_PALM)]
        size = float(np.linalg.norm(pts[0] - pts[9])) or face_w * 0.3  # wrist to middle knuckle
        thick = max(int(round(size * 0.32)), 2)
        hull = cv2.convexHull(np.round(palm).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, (255,))
        cv2.polylines(mask, [hull], True, (255,), thick)
        for a, b in mp.solutions.hands.HAND_CONNECTIONS:
            cv2.line(mask, tuple(np.round(pts[a]).astype(int)), tuple(np.round(pts[b]).astype(int)), (255,), thick)
        for tip in (4, 8, 12, 16, 20):
            cv2.circle(mask, tuple(np.round(pts[tip]).astype(int)), thick // 2 + 1, (255,), -1)
    if not mask.any():
        return np.zeros(shape, np.float32)
    return np.clip(cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(face_w * 0.008, 0.6)) * 1.5,
                   0.0, 1.0)


class OccluderFinder:
    """Per-track state of the occluder detectors: the smoothed glasses presence and the hand tracker.
    Call `reset()` at a cut or before another track."""

    def __init__(self, hands: bool = True, glasses: bool = True) -> None:
        self.use_hands = hands
        self.use_glasses = glasses
        self._tracker: Any = None
        self.reset()

    def reset(self) -> None:
        self._presence: float | None = None
        self._since_look = HAND_EVERY  # look on the first frame
        self._seen = False
        self._last: list[np.ndarray] = []
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None

    def close(self) -> None:
        """Release the hand tracker (mediapipe graphs hold threads)."""
        self.reset()

    def _hands(self) -> Any:
        if self._tracker is None:
            import mediapipe as mp

            self._tracker = mp.solutions.hands.Hands(
                static_image_mode=False, max_num_hands=2, model_complexity=0,
                min_detection_confidence=0.5, min_tracking_confidence=0.5)
        return self._tracker

    def find_hands(self, frame: np.ndarray, box: tuple[int, int, int, int], face_w: float) -> list[np.ndarray]:
        """Hands near the face in this frame, as (21, 2) arrays in frame pixels ([] when not looked)."""
        every = HAND_TRACK_EVERY if self._seen else HAND_EVERY
        if self._since_look < every - 1:
            self._since_look += 1
            return self._last
        self._since_look = 0
        fh, fw = frame.shape[:2]
        x0, y0, x1, y1 = box
        reach = int(HAND_REACH * face_w)
        bx0, by0 = max(x0 - reach, 0), max(y0 - reach, 0)
        bx1, by1 = min(x1 + reach, fw), min(y1 + reach, fh)
        side = max(bx1 - bx0, by1 - by0)
        scale = min(1.0, 256.0 / max(side, 1))
        roi = frame[by0:by1, bx0:bx1]
        if scale < 1.0:
            roi = cv2.resize(roi, (max(int(roi.shape[1] * scale), 1), max(int(roi.shape[0] * scale), 1)),
                             interpolation=cv2.INTER_AREA)
        result = self._hands().process(cv2.cvtColor(roi, cv2.COLOR_BGR2RGB))
        found = []
        for lm in result.multi_hand_landmarks or []:
            xy = np.array([(p.x, p.y) for p in lm.landmark], np.float64) * (roi.shape[1], roi.shape[0])
            found.append(xy / scale + (bx0, by0))
        # Tracked closely only while a hand reaches into the face box; one beside or below the face (a hand
        # holding a microphone at the chin) is looked at as seldom as an absent one, and its last place kept.
        covers = 0.0
        for xy in found:
            ix = max(0.0, min(float(xy[:, 0].max()), x1) - max(float(xy[:, 0].min()), x0))
            iy = max(0.0, min(float(xy[:, 1].max()), y1) - max(float(xy[:, 1].min()), y0))
            covers = max(covers, ix * iy / max((x1 - x0) * (y1 - y0), 1))
        self._seen = covers >= HAND_CLOSE
        self._last = found
        return found

    def keep_mask(
        self, frame: np.ndarray, box: tuple[int, int, int, int], tpts: np.ndarray, face_w: float
    ) -> np.ndarray | None:
        """The crop's keep mask (glasses frames and hands, 0..1), or None when nothing is in front."""
        x0, y0, x1, y1 = box
        crop = frame[y0:y1, x0:x1]
        shape = (y1 - y0, x1 - x0)
        keep: np.ndarray | None = None
        if self.use_glasses:
            evidence, presence = glasses_evidence(crop, tpts, face_w)
            if self._presence is None:
                self._presence = presence
            else:
                self._presence += PRESENCE_RATE * (presence - self._presence)
            if self._presence > 0.05:
                keep = glasses_mask(evidence, self._presence, face_w)
        if self.use_hands:
            hands = self.find_hands(frame, box, face_w)
            if hands:
                found = hand_mask(shape, [h - (x0, y0) for h in hands], face_w)
                keep = found if keep is None else np.maximum(keep, found)
        return keep
