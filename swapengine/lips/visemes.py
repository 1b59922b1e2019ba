"""Mouth shapes for a synthesised line from its phoneme timings: articulation, not loudness alone.

The per-template lip model (swapengine.lips.lipsync) learns the celebrity's mouth from their own voice and
answers a TTS voice weakly (r ~0.17, docs/QUALITY.md). A TTS line comes with its phoneme timings, so it
is animated from them instead: each phoneme has a target on the speaker's own mouth (how open and how
wide, each on the scale of the speaker's own filmed mouth, from their narrowest to their widest) and a
dominance, how strongly it holds the lips against its neighbours (Cohen and Massaro's coarticulation:
p/b/m and f/v hold them, t/d/k/s let the vowels around them show). Targets are blended on a 200 Hz
timeline, the line's loudness scales how far the mouth opens, each frame takes the mean of the bank
shapes nearest its target (every mouth is one the celebrity made), and p/b/m shut fully.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from swapengine.lips.lipsync import close_for_bilabials, closed_shape
from swapengine.lips.mouth import LIPS, opening
from swapengine.voice import audiofeat

Phoneme = tuple[str, float, float]
RATE = 200  # timeline samples per second
CORNERS = (LIPS.index(61), LIPS.index(291))


@dataclass(frozen=True)
class Viseme:
    open: float  # inner-lip opening on the speaker's own scale (0 shut, 1 the widest they are seen)
    width: float  # lip-corner width on the speaker's own scale (0 most rounded, 1 most spread)
    dominance: float  # weight against the neighbours' targets


PAUSE = Viseme(0.05, 0.45, 0.6)  # punctuation and silence: lips relaxed, nearly together
NEUTRAL = Viseme(0.4, 0.5, 0.2)  # a phoneme not in the table (espeak's Indic sets, new symbols)
_TABLE: tuple[tuple[str, Viseme], ...] = (
    ("pbm", Viseme(0.0, 0.4, 1.0)),
    ("fv", Viseme(0.1, 0.5, 0.9)),
    ("θð", Viseme(0.3, 0.55, 0.6)),
    ("w", Viseme(0.2, 0.05, 0.9)),
    ("uʊ", Viseme(0.3, 0.1, 0.8)),
    ("oɔɒ", Viseme(0.65, 0.15, 0.8)),
    ("ʃʒ", Viseme(0.25, 0.15, 0.8)),
    ("ɹr", Viseme(0.35, 0.3, 0.5)),
    ("ɚɝɜ", Viseme(0.45, 0.35, 0.6)),
    ("aɑʌɐ", Viseme(0.95, 0.6, 0.7)),
    ("æ", Viseme(0.9, 0.75, 0.7)),
    ("eɛ", Viseme(0.6, 0.7, 0.5)),
    ("ə", Viseme(0.45, 0.55, 0.3)),
    ("iɪjy", Viseme(0.3, 0.9, 0.6)),
    ("tdnkgŋɾʔx", Viseme(0.3, 0.55, 0.15)),
    ("sz", Viseme(0.2, 0.6, 0.2)),
    ("l", Viseme(0.4, 0.55, 0.15)),
    ("h", Viseme(0.5, 0.5, 0.05)),
    (" ", Viseme(0.3, 0.5, 0.05)),  # a word boundary: no gesture of its own
    (",.!?;:—-", PAUSE),
)
VISEMES: dict[str, Viseme] = {char: viseme for chars, viseme in _TABLE for char in chars}
STRESS = frozenset("ˈˌ")
LENGTH = "ː"
STRESS_OPEN = 1.15  # a stressed vowel opens a little further
WIDTH_WEIGHT = 1.0  # how much a wrong lip width costs against a wrong opening, in bank retrieval


def viseme_for(phoneme: str) -> Viseme:
    return VISEMES.get(phoneme.strip() or " ", NEUTRAL)


def merge_marks(phonemes: Sequence[Phoneme]) -> list[tuple[str, float, float, bool]]:
    """Piper aligns its stress and length marks as phonemes of their own: a stress mark's time goes to
    the phoneme after it (which is marked stressed), a length mark's to the one before it."""
    out: list[tuple[str, float, float, bool]] = []
    pending: float | None = None
    for symbol, begin, end in phonemes:
        if symbol in STRESS:
            pending = begin if pending is None else pending
        elif symbol == LENGTH and out:
            p, b, _, stressed = out[-1]
            out[-1] = (p, b, end, stressed)
        else:
            out.append((symbol, begin if pending is None else pending, end, pending is not None))
            pending = None
    return out


def timeline(phonemes: Sequence[Phoneme], seconds: float, sigma_s: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """(open, width) targets at RATE Hz over [0, seconds), dominance-blended across neighbours."""
    n = max(int(np.ceil(seconds * RATE)), 1)
    target_open = np.full(n, PAUSE.open)
    target_width = np.full(n, PAUSE.width)
    dominance = np.full(n, 0.3)
    for symbol, begin, end, stressed in merge_marks(phonemes):
        a, b = int(round(begin * RATE)), max(int(round(end * RATE)), int(round(begin * RATE)) + 1)
        a, b = min(max(a, 0), n), min(max(b, 0), n)
        if b <= a:
            continue
        v = viseme_for(symbol)
        target_open[a:b] = min(v.open * (STRESS_OPEN if stressed else 1.0), 1.0)
        target_width[a:b] = v.width
        dominance[a:b] = v.dominance
    sigma = sigma_s * RATE
    weight = gaussian_filter1d(dominance, sigma, mode="nearest")
    blended_open = gaussian_filter1d(dominance * target_open, sigma, mode="nearest") / weight
    blended_width = gaussian_filter1d(dominance * target_width, sigma, mode="nearest") / weight
    return blended_open, blended_width


def widths(shapes: np.ndarray) -> np.ndarray:
    """Lip-corner distance (61-291) per shape, in the shapes' units."""
    s = np.asarray(shapes)
    return np.linalg.norm(s[..., CORNERS[1], :] - s[..., CORNERS[0], :], axis=-1)


def loudness_gain(samples: np.ndarray, sr: int, fps: float, n: int, range_db: float = 30.0) -> np.ndarray:
    """Per frame, 0.7 (quiet) to 1 (the line's loudest): how far the target opening is reached."""
    envelope = audiofeat.smooth_envelope_db(samples, sr, fps, n)
    level = np.clip((envelope - (envelope.max() - range_db)) / range_db, 0.0, 1.0)
    return 0.7 + 0.3 * level


def _spread(values: np.ndarray) -> np.ndarray:
    """Values on the speaker's own scale: 0 at their 3rd percentile, 1 at their 97th.

    Not ranks: a speaker filmed mostly with a shut mouth would have their 30th percentile shut too."""
    low, high = np.percentile(values, [3, 97])
    return (values - low) / max(float(high - low), 1e-9)


def viseme_shapes(phonemes: Sequence[Phoneme], samples: np.ndarray, sr: int, fps: float, n: int,
                  bank: np.ndarray, offset_s: float = 0.0, nearest: int = 3) -> np.ndarray:
    """(n, 40, d) lip shapes from the speaker's own `bank` for `n` frames, the first starting `offset_s`
    into the line (phoneme times are from the line's start; `samples` start at the first frame)."""
    bank = np.asarray(bank, np.float32)
    seconds = offset_s + n / fps + 0.1
    target_open, target_width = timeline(phonemes, seconds)
    centres = offset_s + (np.arange(n) + 0.5) / fps
    grid = np.arange(len(target_open)) / RATE
    want_open = np.interp(centres, grid, target_open) * loudness_gain(samples, sr, fps, n)
    want_width = np.interp(centres, grid, target_width)
    bank_open, bank_width = _spread(opening(bank)), _spread(widths(bank))
    cost = (bank_open[None] - want_open[:, None]) ** 2 + WIDTH_WEIGHT * (bank_width[None] - want_width[:, None]) ** 2
    picks = np.argsort(cost, axis=1)[:, :min(nearest, len(bank))]
    shapes = bank[picks].mean(axis=1)
    if n > 1:
        shapes = gaussian_filter1d(shapes, 0.7, axis=0, mode="nearest")
    return close_for_bilabials(shapes, phonemes, fps, closed_shape(bank), offset_s)
