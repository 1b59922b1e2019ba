"""Invisible watermark: every rendered frame carries the render's 32-bit id, so a re-shared copy of an ad
can be traced back to its render even after a social app re-encodes, downscales and trims it.

Scheme (spread spectrum with informed embedding):
- The frame is cut into a fixed GRID x GRID array of cells relative to its size, so a rescaled copy keeps
  the same cells. A cell's feature is its mean luma minus the mean of its 3x3 cell neighbourhood (a
  high-pass that removes most of the picture but keeps a cell-sized pattern).
- 48 coded bits (32 id bits + CRC-16) each own ~1/48 of the cells, chosen by a keyed permutation, with a
  keyed +-1 chip per cell. A bit's statistic is the sum of feature x chip over its cells.
- The embedder measures each bit's statistic on the frame it is given and adds just enough of a smooth,
  texture-weighted pattern to push it to a target with the right sign. The picture's own interference is
  thus cancelled at embedding time, and flat areas (where a pattern would show) get less of it.
- Every frame carries the same payload, so any trimmed excerpt decodes without knowing its first frame.
  The detector sums features over frames and decides with soft bits.
- False positives: a mark is claimed only if the CRC holds AND the key's statistic stands out from the
  same statistic under DECOYS unrelated keys by at least MIN_Z standard deviations.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from .errors import BadInput
from .media import FrameReader, probe

GRID = 64
ID_BITS = 32
CRC_BITS = 16
CODE_BITS = ID_BITS + CRC_BITS
DECOYS = 64
MIN_Z = 6.0
MIN_SIDE = 64
LIMIT = 4.0  # cells whose feature exceeds this (levels) are ignored: picture edges, not the mark
_MID = 4  # pattern and texture mask are built at GRID * _MID, then upsampled once


def crc16(value: int) -> int:
    """CRC-16/CCITT-FALSE of the id's four big-endian bytes."""
    crc = 0xFFFF
    for byte in value.to_bytes(4, "big"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encode_bits(payload: int) -> np.ndarray:
    """The 48 coded bits as +-1 (float32), id first, most significant bit first."""
    if not 0 <= payload < 1 << ID_BITS:
        raise ValueError(f"payload must be a 32-bit unsigned int, not {payload}")
    word = (payload << CRC_BITS) | crc16(payload)
    bits = np.array([(word >> (CODE_BITS - 1 - i)) & 1 for i in range(CODE_BITS)], np.float32)
    return bits * 2.0 - 1.0


def decode_bits(soft: np.ndarray) -> tuple[int, bool]:
    """(id, crc_ok) from soft bits (positive = 1)."""
    word = 0
    for value in soft:
        word = (word << 1) | int(value > 0)
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    return payload, crc16(payload) == crc


@dataclasses.dataclass(frozen=True)
class Layout:
    """Keyed chips and cell-to-bit map; derived from the key only, so embedder and detector agree."""

    chips: np.ndarray  # (GRID, GRID) float32 +-1
    bit_of_cell: np.ndarray  # (GRID*GRID,) int64 in [0, CODE_BITS)
    cells_per_bit: np.ndarray  # (CODE_BITS,) float32

    @classmethod
    def from_key(cls, key: bytes, salt: bytes = b"") -> Layout:
        if not key:
            raise ValueError("the watermark key must not be empty")
        seed = int.from_bytes(hashlib.sha256(b"adstudio-watermark-v1\0" + salt + b"\0" + key).digest()[:8])
        rng = np.random.default_rng(seed)
        chips = rng.integers(0, 2, size=(GRID, GRID)).astype(np.float32) * 2.0 - 1.0
        bit_of_cell = np.empty(GRID * GRID, np.int64)
        bit_of_cell[rng.permutation(GRID * GRID)] = np.arange(GRID * GRID) % CODE_BITS
        counts = np.bincount(bit_of_cell, minlength=CODE_BITS).astype(np.float32)
        return cls(chips, bit_of_cell, counts)

    def correlate(self, features: np.ndarray) -> np.ndarray:
        """Per-bit sum of feature x chip, shape (CODE_BITS,)."""
        return np.bincount(self.bit_of_cell, (features * self.chips).ravel(), CODE_BITS).astype(np.float32)


def _luma(frame: np.ndarray) -> np.ndarray:
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {frame.shape} {frame.dtype}")
    h, w = frame.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise BadInput(f"This video is too small to carry a watermark ({w}x{h}).", code="video_too_small")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _highpass(cells: np.ndarray) -> np.ndarray:
    return cells - cv2.blur(cells, (3, 3), borderType=cv2.BORDER_REFLECT)


def cell_features(image: np.ndarray) -> np.ndarray:
    """High-passed cell means of a single-channel image (any size), shape (GRID, GRID) float32."""
    cells = cv2.resize(image.astype(np.float32, copy=False), (GRID, GRID), interpolation=cv2.INTER_AREA)
    return _highpass(cells)


def frame_features(frame: np.ndarray) -> np.ndarray:
    return cell_features(_luma(frame))


@dataclasses.dataclass(frozen=True)
class Strength:
    """Embedding strength in luma levels; the defaults were tuned for PSNR >= 40 dB after CRF 30."""

    target: float = 2.0  # how far (levels) each cell feature is pushed towards its chip
    margin: float = 1.5  # how far past LIMIT a cell is pushed when it is cheaper to silence it
    max_amplitude: float = 8.0  # cap on a bit's pattern amplitude, before the texture mask
    mask_floor: float = 0.5  # texture weight in flat areas
    mask_ceiling: float = 1.6
    texture_ref: float = 0.5  # added to the frame's mean contrast, so a flat frame gets the floor


class Watermarker:
    """Embeds one payload into frames; one instance per render (cheap to build, holds no frames)."""

    def __init__(self, payload: int, key: bytes, strength: Strength | None = None) -> None:
        self.payload = payload
        self.layout = Layout.from_key(key)
        self.strength = strength or Strength()
        signs = encode_bits(payload)
        self._signed_chips = (signs[self.layout.bit_of_cell].reshape(GRID, GRID) * self.layout.chips)
        self._dither_field: np.ndarray | None = None

    def _mask(self, mid: np.ndarray) -> np.ndarray:
        s = self.strength
        detail = np.abs(mid - cv2.blur(mid, (3, 3), borderType=cv2.BORDER_REFLECT))
        texture = cv2.blur(detail, (_MID + 1, _MID + 1), borderType=cv2.BORDER_REFLECT)
        return np.clip(texture / (float(np.median(texture)) + s.texture_ref), s.mask_floor, s.mask_ceiling)

    def pattern(self, frame: np.ndarray) -> np.ndarray:
        """The luma offset (float32, frame size) this frame gets.

        Each cell is pushed until its feature agrees with its chip by `target` levels, if that costs less
        than `max_amplitude`; cells the picture opposes too strongly are left alone, since the detector's
        limiter caps what they can cost anyway.
        """
        luma = _luma(frame)
        h, w = luma.shape
        s = self.strength
        mid_size = (GRID * _MID, GRID * _MID)
        mid = cv2.resize(luma, mid_size, interpolation=cv2.INTER_AREA).astype(np.float32)
        mask = self._mask(mid)
        chips = self._signed_chips
        host = cell_features(mid) * chips
        response = np.maximum(cell_features(mask * self._up(chips, mid_size)) * chips, 0.05)
        # Cheapest of: push the cell up to +target (it votes for its bit), or push it out past the
        # detector's window on its own side (it no longer votes). Cells already fine are left alone.
        out = -(LIMIT + s.margin)
        goal = np.where(s.target - host <= host - out, s.target, out).astype(np.float32)
        idle = (host >= s.target) | (host <= out) | (np.abs(goal - host) / response > s.max_amplitude)
        goal = np.where(idle, host, goal)
        amp = np.zeros_like(host)
        for _ in range(3):  # neighbouring cells leak into each other: correct on the pattern actually built
            got = host + cell_features(mask * self._up(amp * chips, mid_size)) * chips
            step = np.where(idle, 0.0, (goal - got) / response)
            amp = np.clip(amp + step, -s.max_amplitude, s.max_amplitude).astype(np.float32)
        offset = mask * self._up(amp.astype(np.float32) * chips, mid_size)
        return cv2.resize(offset, (w, h), interpolation=cv2.INTER_LINEAR)

    @staticmethod
    def _up(cells: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Cell values as soft-edged plateaus: flat enough that a cell's mean keeps most of its value,
        soft enough that no cell border shows as a hard step."""
        blocks = cv2.resize(cells.astype(np.float32, copy=False), size, interpolation=cv2.INTER_NEAREST)
        return cv2.blur(blocks, (_MID // 2 + 1, _MID // 2 + 1), borderType=cv2.BORDER_REFLECT)

    def _dither(self, shape: tuple[int, int]) -> np.ndarray:
        """A fixed uniform(-0.5, 0.5) field: offsets well under one level still shift cell means."""
        if self._dither_field is None or self._dither_field.shape != shape:
            rng = np.random.default_rng(0x5EED)
            self._dither_field = (rng.random(shape, dtype=np.float32) - 0.5).astype(np.float32)
        return self._dither_field

    def embed(self, frame: np.ndarray, index: int = 0) -> np.ndarray:
        """A marked copy of `frame`. `index` is unused: every frame carries the whole payload, which is
        what lets a 3 s excerpt from anywhere decode."""
        height, width = frame.shape[:2]
        offset = self.pattern(frame) + self._dither((height, width))
        offset = np.floor(offset + 0.5, out=offset)
        up = cv2.convertScaleAbs(np.maximum(offset, 0.0))
        down = cv2.convertScaleAbs(np.minimum(offset, 0.0))
        out = cv2.add(frame, cv2.merge((up, up, up)))
        return cv2.subtract(out, cv2.merge((down, down, down)), dst=out)


@dataclasses.dataclass(frozen=True)
class Detection:
    found: bool
    payload: int | None  # the id, only when found
    confidence: float  # z-score of the key's statistic against decoy keys (>= MIN_Z to claim a mark)
    crc_ok: bool
    frames: int
    soft_bits: np.ndarray = dataclasses.field(repr=False, compare=False)  # (CODE_BITS,) normalised


class Detector:
    """Accumulates frame features for one key; `result()` can be asked at any point."""

    def __init__(self, key: bytes, decoys: int = DECOYS, min_z: float = MIN_Z) -> None:
        self.layout = Layout.from_key(key)
        self.decoys = [Layout.from_key(key, salt=b"decoy%d" % i) for i in range(decoys)]
        self.min_z = min_z
        self._sum = np.zeros((GRID, GRID), np.float64)
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        features = frame_features(frame)
        self._sum += np.where(np.abs(features) <= LIMIT, features, 0.0)
        self.frames += 1

    @staticmethod
    def _normalised(layout: Layout, features: np.ndarray) -> np.ndarray:
        corr = layout.correlate(features)
        energy = np.bincount(layout.bit_of_cell, (features * features).ravel(), CODE_BITS)
        return corr / np.sqrt(np.maximum(energy * layout.cells_per_bit, 1e-12))

    def result(self) -> Detection:
        if self.frames == 0:
            return Detection(False, None, 0.0, False, 0, np.zeros(CODE_BITS, np.float32))
        features = (self._sum / self.frames).astype(np.float32)
        soft = self._normalised(self.layout, features)
        stat = float(np.mean(np.abs(soft)))
        null = np.array([np.mean(np.abs(self._normalised(d, features))) for d in self.decoys])
        z = float((stat - null.mean()) / max(float(null.std()), 1e-6))
        payload, crc_ok = decode_bits(soft)
        found = crc_ok and z >= self.min_z
        return Detection(found, payload if found else None, z, crc_ok, self.frames, soft.astype(np.float32))


def detect(frames: Iterable[np.ndarray], key: bytes, max_frames: int | None = None) -> Detection:
    detector = Detector(key)
    for i, frame in enumerate(frames):
        if max_frames is not None and i >= max_frames:
            break
        detector.add(frame)
    return detector.result()


def detect_file(path: Path | str, key: bytes, max_seconds: float = 10.0) -> Detection:
    """Reads at most `max_seconds` of the clip's start (a mark is in every frame)."""
    info = probe(path)
    limit = max(1, int(round(max_seconds * info.fps)))
    with FrameReader(path, info) as reader:
        return detect(reader, key, max_frames=limit)
