"""Invisible watermark: every rendered frame carries the render's 32-bit id, so a re-shared copy of an ad
can be traced back to its render even after a social app re-encodes, downscales and trims it.

Scheme (spread spectrum with informed embedding, convolutional code, soft Viterbi decoding):
- 32 id bits + CRC-16 are coded by a rate-1/2, K=7 convolutional code (108 coded bits).
- The frame is cut into a G x G array of cells relative to its size (G = 64, 32 or 16, the finest whose
  cells are at least MIN_CELL px), so a rescaled copy keeps the same cells, and small frames get cells big
  enough to survive H.264. A cell's feature is its mean luma minus the mean of its 3x3 neighbourhood.
- Each coded bit owns ~1/108 of the cells (keyed permutation), each with a keyed +-1 chip; a bit's
  statistic is the sum of feature x chip over its cells.
- The embedder measures every cell on the frame it is given and adds just enough of a smooth,
  texture-weighted pattern to push it to a target with the right sign: the picture's own interference is
  cancelled at embedding time, and flat areas (where a pattern would show) get less of it.
- Every frame carries the same payload, so any excerpt decodes without knowing its first frame. The
  detector averages features over frames for every grid size and decodes each with soft Viterbi.
- False positives: a mark is claimed only if the CRC holds AND the correlation with the decoded codeword
  stands out from the same statistic under DECOYS unrelated keys by at least MIN_Z standard deviations.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from swapengine.errors import BadInput
from swapengine.media import FrameReader, probe

GRIDS = (64, 32, 16)
MIN_CELL = 3.5  # px: the finest grid whose cells are at least this big carries the mark
ID_BITS = 32
CRC_BITS = 16
INFO_BITS = ID_BITS + CRC_BITS
_K = 7  # constraint length of the convolutional code
_POLYS = (0o133, 0o171)  # the NASA/CCSDS rate-1/2 code: free distance 10
CODE_BITS = len(_POLYS) * (INFO_BITS + _K - 1)
DECOYS = 64
MIN_Z = 6.0
MIN_SIDE = 64
VAR_FLOOR = 0.25  # levels^2 added to a cell's variance over frames before weighting by its inverse
LIMIT = 4.0  # cells whose feature exceeds this (levels) are ignored: picture edges, not the mark
_MID = 4  # pattern and texture mask are built at grid * _MID, then upsampled once


def crc16(value: int) -> int:
    """CRC-16/CCITT-FALSE of the id's four big-endian bytes."""
    crc = 0xFFFF
    for byte in value.to_bytes(4, "big"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _register_outputs() -> np.ndarray:
    """(2**K, 2) +-1: the coded pair emitted for each 7-bit shift-register value."""
    regs = np.arange(1 << _K)
    out = [np.array([bin(int(r) & p).count("1") & 1 for r in regs]) for p in _POLYS]
    return np.stack(out, axis=1).astype(np.float32) * 2.0 - 1.0


def info_bits(payload: int) -> list[int]:
    if not 0 <= payload < 1 << ID_BITS:
        raise ValueError(f"payload must be a 32-bit unsigned int, not {payload}")
    word = (payload << CRC_BITS) | crc16(payload)
    return [(word >> (INFO_BITS - 1 - i)) & 1 for i in range(INFO_BITS)]


def encode_bits(payload: int) -> np.ndarray:
    """The CODE_BITS coded bits as +-1 (float32): id then CRC, terminated with K-1 zeros."""
    table = _register_outputs()
    reg, out = 0, []
    for bit in info_bits(payload) + [0] * (_K - 1):
        reg = ((reg << 1) | bit) & ((1 << _K) - 1)
        out.append(table[reg])
    return np.concatenate(out).astype(np.float32)


def viterbi(soft: np.ndarray) -> np.ndarray:
    """Maximum-correlation info bits for a batch of soft codewords: (B, CODE_BITS) -> (B, INFO_BITS)."""
    table = _register_outputs()
    n_states = 1 << (_K - 1)
    steps = soft.shape[1] // 2
    pairs = soft.reshape(soft.shape[0], steps, 2).astype(np.float64)
    nxt = np.arange(n_states)
    regs = np.stack([nxt, nxt | n_states])  # the two registers that lead into each state
    prev = regs >> 1
    metric = np.full((soft.shape[0], n_states), -np.inf)
    metric[:, 0] = 0.0
    choices = np.empty((steps, soft.shape[0], n_states), np.int8)
    branches = pairs @ table.T  # (B, steps, 2**K): the metric of every register value at every step
    for t in range(steps):
        low = metric[:, prev[0]] + branches[:, t, regs[0]]
        high = metric[:, prev[1]] + branches[:, t, regs[1]]
        choices[t] = high > low
        metric = np.maximum(low, high)
    bits = np.empty((soft.shape[0], steps), np.int8)
    state = np.zeros(soft.shape[0], np.int64)  # terminated: the path ends in state 0
    rows = np.arange(soft.shape[0])
    for t in range(steps - 1, -1, -1):
        bits[:, t] = state & 1
        state = (state >> 1) | (choices[t, rows, state].astype(np.int64) << (_K - 2))
    return bits[:, :INFO_BITS]


def split_info(bits: np.ndarray) -> tuple[int, bool]:
    """(id, crc_ok) from INFO_BITS hard bits."""
    word = 0
    for bit in bits:
        word = (word << 1) | int(bit)
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    return payload, crc16(payload) == crc


def decode_bits(soft: np.ndarray) -> tuple[int, bool]:
    """(id, crc_ok) from one soft codeword (positive = 1), through the Viterbi decoder."""
    return split_info(viterbi(soft[None, :])[0])


def grid_for(width: int, height: int) -> int:
    """The finest grid whose cells are at least MIN_CELL px on the frame's short side."""
    side = min(width, height)
    return next((g for g in GRIDS if side / g >= MIN_CELL), GRIDS[-1])


@dataclasses.dataclass(frozen=True)
class Layout:
    """Keyed chips and cell-to-bit map for one grid; derived from the key only, so both ends agree."""

    grid: int
    chips: np.ndarray  # (grid, grid) float32 +-1
    bit_of_cell: np.ndarray  # (grid*grid,) int64 in [0, CODE_BITS)
    cells_per_bit: np.ndarray  # (CODE_BITS,) float32

    @classmethod
    def from_key(cls, key: bytes, grid: int, salt: bytes = b"") -> Layout:
        if not key:
            raise ValueError("the watermark key must not be empty")
        material = b"adstudio-watermark-v2\0%d\0" % grid + salt + b"\0" + key
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(material).digest()[:8]))
        chips = rng.integers(0, 2, size=(grid, grid)).astype(np.float32) * 2.0 - 1.0
        bit_of_cell = np.empty(grid * grid, np.int64)
        bit_of_cell[rng.permutation(grid * grid)] = np.arange(grid * grid) % CODE_BITS
        counts = np.bincount(bit_of_cell, minlength=CODE_BITS).astype(np.float32)
        return cls(grid, chips, bit_of_cell, counts)

    def normalised(self, features: np.ndarray) -> np.ndarray:
        """Per-bit correlation of features with the chips, scaled to unit variance for noise."""
        corr = np.bincount(self.bit_of_cell, (features * self.chips).ravel(), CODE_BITS)
        energy = np.bincount(self.bit_of_cell, (features * features).ravel(), CODE_BITS)
        return (corr / np.sqrt(np.maximum(energy * self.cells_per_bit, 1e-12))).astype(np.float32)


class LayoutBatch:
    """Several layouts of one grid (the key's and its decoys') correlated in one bincount."""

    def __init__(self, layouts: list[Layout]) -> None:
        n = len(layouts)
        self.size = n * CODE_BITS
        self.index = (np.arange(n)[:, None] * CODE_BITS + np.stack([lay.bit_of_cell for lay in layouts])).ravel()
        self.chips = np.stack([lay.chips.ravel() for lay in layouts])
        self.counts = np.stack([lay.cells_per_bit for lay in layouts])

    def normalised(self, features: np.ndarray) -> np.ndarray:
        """(layouts, CODE_BITS): each layout's `Layout.normalised`."""
        flat = features.ravel()
        corr = np.bincount(self.index, (self.chips * flat).ravel(), self.size).reshape(self.counts.shape)
        squares = np.broadcast_to(flat * flat, self.chips.shape).ravel()
        energy = np.bincount(self.index, squares, self.size).reshape(self.counts.shape)
        return (corr / np.sqrt(np.maximum(energy * self.counts, 1e-12))).astype(np.float32)


def _luma(frame: np.ndarray) -> np.ndarray:
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {frame.shape} {frame.dtype}")
    h, w = frame.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise BadInput(f"This video is too small to carry a watermark ({w}x{h}).", code="video_too_small")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def _highpass(cells: np.ndarray) -> np.ndarray:
    return cells - cv2.blur(cells, (3, 3), borderType=cv2.BORDER_REFLECT)


def cell_features(image: np.ndarray, grid: int) -> np.ndarray:
    """High-passed cell means of a single-channel image (any size), shape (grid, grid) float32."""
    cells = cv2.resize(image.astype(np.float32, copy=False), (grid, grid), interpolation=cv2.INTER_AREA)
    return _highpass(cells)


def frame_features(frame: np.ndarray) -> dict[int, np.ndarray]:
    """Cell features of one frame for every grid, with picture edges beyond LIMIT zeroed."""
    luma = _luma(frame)
    feats = {g: cell_features(luma, g) for g in GRIDS}
    return {g: np.where(np.abs(f) <= LIMIT, f, 0.0).astype(np.float32) for g, f in feats.items()}


@dataclasses.dataclass(frozen=True)
class Strength:
    """Embedding strength in luma levels; tuned for PSNR >= 40 dB and survival of CRF 30."""

    target: float = 1.7  # how far (levels) each cell feature is pushed towards its chip
    margin: float = 1.5  # how far past LIMIT a cell is pushed when it is cheaper to silence it
    max_amplitude: float = 12.0  # cap on a cell's pattern amplitude, before the texture mask
    # No texture weighting by default: x264 quantises textured areas hardest (adaptive quantisation),
    # so a texture-weighted mark is the first thing CRF 30 removes (measured: 224 px clips lost it).
    mask_floor: float = 1.0
    mask_ceiling: float = 1.0
    psnr_floor: float = 40.5  # a frame's pattern is scaled down until marking costs at most this PSNR
    texture_ref: float = 0.5  # added to the frame's mean contrast, so a flat frame gets the floor


class Watermarker:
    """Embeds one payload into frames; one instance per render (cheap to build, holds no frames)."""

    def __init__(self, payload: int, key: bytes, strength: Strength | None = None) -> None:
        self.payload = payload
        self.key = key
        self.strength = strength or Strength()
        self._signs = encode_bits(payload)
        self._chips: dict[int, np.ndarray] = {}
        self._dither_field: np.ndarray | None = None

    def signed_chips(self, grid: int) -> np.ndarray:
        if grid not in self._chips:
            layout = Layout.from_key(self.key, grid)
            self._chips[grid] = self._signs[layout.bit_of_cell].reshape(grid, grid) * layout.chips
        return self._chips[grid]

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
        grid = grid_for(w, h)
        mid_size = (grid * _MID, grid * _MID)
        mid = cv2.resize(luma, mid_size, interpolation=cv2.INTER_AREA).astype(np.float32)
        mask = self._mask(mid)
        chips = self.signed_chips(grid)
        host = cell_features(mid, grid) * chips
        response = np.maximum(cell_features(mask * self._up(chips, mid_size), grid) * chips, 0.05)
        # Cheapest of: push the cell up to +target (it votes for its bit), or push it out past the
        # detector's window on its own side (it no longer votes). Cells already fine are left alone.
        out = -(LIMIT + s.margin)
        goal = np.where(s.target - host <= host - out, s.target, out).astype(np.float32)
        idle = (host >= s.target) | (host <= out) | (np.abs(goal - host) / response > s.max_amplitude)
        goal = np.where(idle, host, goal)
        amp = np.zeros_like(host)
        for _ in range(3):  # neighbouring cells leak into each other: correct on the pattern actually built
            got = host + cell_features(mask * self._up(amp * chips, mid_size), grid) * chips
            step = np.where(idle, 0.0, (goal - got) / response)
            amp = np.clip(amp + step, -s.max_amplitude, s.max_amplitude).astype(np.float32)
        offset = mask * self._up(amp.astype(np.float32) * chips, mid_size)
        # Rounding with the dither adds ~1/6 level^2 of its own; the rest of the budget is the pattern's.
        budget = 255.0**2 / 10.0 ** (s.psnr_floor / 10.0) - 1.0 / 6.0
        power = float(np.mean(offset * offset))
        if power > budget:
            offset *= np.float32(np.sqrt(budget / power))
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

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        """The render's frame step (swapengine.pipeline.stages)."""
        return self.embed(frame, index)

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
    grid: int  # the grid the decision is about (the claimed one, else the most confident)
    decoded: int = dataclasses.field(repr=False)  # Viterbi's best id even when unclaimed: for measuring
    soft_bits: np.ndarray = dataclasses.field(repr=False, compare=False)  # (CODE_BITS,) normalised


class Detector:
    """Accumulates frame features for one key; `result()` can be asked at any point."""

    def __init__(self, key: bytes, decoys: int = DECOYS, min_z: float = MIN_Z) -> None:
        self.layouts = {
            g: LayoutBatch([Layout.from_key(key, g)] + [Layout.from_key(key, g, b"decoy%d" % i)
                                                        for i in range(decoys)])
            for g in GRIDS
        }
        self.min_z = min_z
        self._sums = {g: np.zeros((g, g), np.float64) for g in GRIDS}
        self._squares = {g: np.zeros((g, g), np.float64) for g in GRIDS}
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        for g, feats in frame_features(frame).items():
            self._sums[g] += feats
            self._squares[g] += feats.astype(np.float64) ** 2
        self.frames += 1

    def result(self) -> Detection:
        if self.frames == 0:
            return Detection(False, None, 0.0, False, 0, GRIDS[0], 0, np.zeros(CODE_BITS, np.float32))
        n = self.frames
        means = {g: s / n for g, s in self._sums.items()}
        spreads = {g: np.maximum(self._squares[g] / n - means[g] ** 2, 0.0) for g in GRIDS}
        return self.decide(means, spreads, n)

    def decide(self, means: dict[int, np.ndarray], spreads: dict[int, np.ndarray], frames: int) -> Detection:
        """The verdict on per-cell means and variances over frames. Cells whose feature swings from frame
        to frame (moving picture, where the encoder's motion compensation drags the mark along) are
        weighted down. The key's layout is row 0 of each grid's batch, decoys follow."""
        verdicts = []
        for g, layouts in self.layouts.items():
            weighted = (means[g] / (spreads[g] + VAR_FLOOR)).astype(np.float32)
            soft = layouts.normalised(weighted)
            bits = viterbi(soft)
            stats = np.mean(soft * _reencode(bits), axis=1)
            null = stats[1:]
            z = float((stats[0] - null.mean()) / max(float(null.std()), 1e-6))
            payload, crc_ok = split_info(bits[0])
            verdicts.append((crc_ok and z >= self.min_z, z, g, payload, crc_ok, soft[0]))
        found, z, g, payload, crc_ok, soft = max(verdicts, key=lambda v: (v[0], v[1]))
        return Detection(found, payload if found else None, z, crc_ok, frames, g, payload, soft)


def _reencode(bits: np.ndarray) -> np.ndarray:
    """Re-encode decoded info bits (B, INFO_BITS) into +-1 codewords (B, CODE_BITS)."""
    table = _register_outputs()
    batch = bits.shape[0]
    padded = np.concatenate([bits.astype(np.int64), np.zeros((batch, _K - 1), np.int64)], axis=1)
    reg = np.zeros(batch, np.int64)
    out = np.empty((batch, padded.shape[1], 2), np.float32)
    for t in range(padded.shape[1]):
        reg = ((reg << 1) | padded[:, t]) & ((1 << _K) - 1)
        out[:, t] = table[reg]
    return out.reshape(batch, -1)


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
