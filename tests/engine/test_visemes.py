"""A synthesised line's mouth from its phoneme timings: shut on p/b/m, open on vowels, round on w/u/o."""

from __future__ import annotations

import numpy as np
import pytest

from swapengine.lips import mouth, visemes
from swapengine.voice import slots as dialogue
from swapengine.voice.slots import SlotLine
from swapengine.voice.tts import PiperVoice

FPS = 25.0


def lip_bank() -> np.ndarray:
    """(121, 40, 3) lip shapes: every mix of 11 openings (inner-lip gap 0-0.3) and 11 widths (0.4-0.7)."""
    shapes = []
    for gap in np.linspace(0.0, 0.3, 11):
        for width in np.linspace(0.4, 0.7, 11):
            s = np.zeros((40, 3), np.float32)
            s[visemes.CORNERS[0], 0], s[visemes.CORNERS[1], 0] = -width / 2, width / 2
            s[mouth.INNER_BOTTOM, 1] = gap
            shapes.append(s)
    return np.stack(shapes)


def at(phonemes: list[tuple[str, float, float]], symbol: str) -> int:
    """The frame at the middle of the first `symbol`."""
    for p, a, b in phonemes:
        if p == symbol:
            return int((a + b) / 2 * FPS)
    raise AssertionError(f"{symbol} not in {phonemes}")


def test_stress_and_length_marks_join_their_vowel() -> None:
    merged = visemes.merge_marks([("h", 0.0, 0.1), ("ˈ", 0.1, 0.2), ("ɑ", 0.2, 0.3), ("ː", 0.3, 0.4),
                                  ("p", 0.4, 0.5)])
    assert merged == [("h", 0.0, 0.1, False), ("ɑ", 0.1, 0.4, True), ("p", 0.4, 0.5, False)]


def test_timeline_follows_the_phonemes_and_lets_weak_consonants_borrow() -> None:
    line = [("m", 0.0, 0.12), ("ɑ", 0.12, 0.32), ("t", 0.32, 0.36), ("ɑ", 0.36, 0.56), ("u", 0.56, 0.8),
            ("ঝ", 0.8, 1.0)]
    opened, wide = visemes.timeline(line, 1.0)
    rate = visemes.RATE
    assert opened[int(0.05 * rate)] < 0.1 < 0.8 < opened[int(0.22 * rate)]
    assert opened[int(0.34 * rate)] > 0.6  # a t between two a's stays nearly as open as they are
    assert wide[int(0.7 * rate)] < 0.2 < 0.5 < wide[int(0.22 * rate)]  # u rounds the lips
    assert opened[int(0.95 * rate)] == pytest.approx(visemes.NEUTRAL.open, abs=0.05)  # unknown symbol


def test_shapes_shut_on_bilabials_open_on_vowels_and_round() -> None:
    line = [("p", 0.1, 0.16), ("ɑ", 0.16, 0.5), ("b", 0.5, 0.56), ("i", 0.56, 0.9), ("w", 0.9, 1.0),
            ("u", 1.0, 1.4), ("m", 1.4, 1.5), ("!", 1.5, 1.8)]
    sr = 16000
    samples = (0.3 * np.sin(2 * np.pi * 150 * np.arange(int(1.8 * sr)) / sr)).astype(np.float32)
    shapes = visemes.viseme_shapes(line, samples, sr, FPS, int(1.8 * FPS), lip_bank())
    gap, width = mouth.opening(shapes), visemes.widths(shapes)
    for bilabial in "pbm":
        assert gap[at(line, bilabial)] < 0.03
    assert gap[at(line, "ɑ")] > 0.22
    assert width[at(line, "u")] < width[at(line, "i")] - 0.1
    assert gap[-1] < 0.06  # the line's closing pause relaxes the lips


def test_a_late_first_frame_reads_the_phonemes_at_the_right_time() -> None:
    line = [("ɑ", 0.0, 0.3), ("m", 0.3, 0.4), ("ɑ", 0.4, 0.8)]
    samples = np.full(16000, 0.2, np.float32)
    shifted = visemes.viseme_shapes(line, samples, 16000, FPS, 12, lip_bank(), offset_s=0.2)
    assert mouth.opening(shifted)[int(0.15 * FPS)] < 0.03  # m at 0.35 s of the line is 0.15 s in


def test_piper_slot_audio_carries_timings_inside_the_slot() -> None:
    """The real voice: the line's phonemes survive voice conversion and fitting to the slot."""
    sr = dialogue.SR
    reference = (0.1 * np.sin(2 * np.pi * 120 * np.arange(2 * sr) / sr)).astype(np.float32)
    line = SlotLine(0.0, 1.3, "Happy Diwali, Priya!")
    slot = dialogue.line_audio(line, reference, sr, PiperVoice())
    assert slot.source == "voice" and slot.phonemes
    symbols = [p for p, _, _ in slot.phonemes]
    assert symbols.count("p") == 2 and "ɑ" in symbols
    starts = [a for _, a, _ in slot.phonemes]
    assert starts == sorted(starts) and all(0 <= a <= b <= line.seconds for _, a, b in slot.phonemes)
    assert slot.phonemes[-1][2] > 0.7 * line.seconds  # stretched with the audio, not left at TTS speed
