"""Formants: read where they are, and a TTS line's moved towards the speaker's vocal tract."""

from __future__ import annotations

import numpy as np
import pytest

from swapengine.voice import formants
from swapengine.voice import tts as voice
from tests.engine.vowels import vowel

SR = 22050
ADULT = ((700.0, 110.0), (1200.0, 120.0), (2400.0, 160.0))


def scaled(factor: float) -> tuple[tuple[float, float], ...]:
    return tuple((f * factor, b) for f, b in ADULT)


def test_lpc_finds_the_formants_that_were_put_there() -> None:
    table = formants.frame_formants(vowel(120.0, SR, formants=ADULT), SR)
    assert len(table) > 50
    median = np.median(table, axis=0)
    assert median == pytest.approx([700, 1200, 2400], rel=0.08)


def test_the_factor_is_the_ratio_of_third_formants() -> None:
    line = vowel(110.0, SR, formants=ADULT)
    shorter_tract = vowel(210.0, SR, formants=scaled(1.18))
    assert formants.shift_factor(line, shorter_tract, SR) == pytest.approx(1.18, rel=0.05)
    assert formants.shift_factor(line, vowel(115.0, SR, formants=scaled(1.01)), SR) == 1.0  # within 3%
    assert formants.shift_factor(line, np.zeros(SR, np.float32), SR) == 1.0  # nothing to read
    assert formants.shift_factor(line, vowel(110.0, SR, formants=scaled(1.6)), SR) == formants.FACTOR_LIMITS[1]


def test_conversion_moves_the_formants_and_keeps_pitch_and_length() -> None:
    """A low voice with long-tract formants converted towards a high, short-tract one: F3 follows."""
    line = voice.Speech(vowel(110.0, SR, 1.2, ADULT), SR)
    reference = vowel(220.0, SR, 3.0, scaled(1.18))
    moved = voice.convert_towards(line, reference, SR, scale_contour=False)
    kept = voice.convert_towards(line, reference, SR, scale_contour=False, shift_formants=False)
    assert len(moved.samples) == len(kept.samples) == len(line.samples)
    f3_moved, f3_kept = formants.third_formant(moved.samples, SR), formants.third_formant(kept.samples, SR)
    assert f3_moved is not None and f3_kept is not None
    assert f3_moved == pytest.approx(2400 * 1.18, rel=0.06) and f3_kept == pytest.approx(2400, rel=0.06)
    heard = voice.median_pitch(moved.samples, SR)
    assert heard is not None and heard == pytest.approx(220.0, rel=0.03)


def test_piper_reads_its_own_third_formant_once() -> None:
    """Measured on a calibration sentence (a 1 s line's F3 swings by hundreds of Hz), then kept."""
    piper = voice.PiperVoice()
    first = piper.formant_f3
    assert first is not None and 2000 < first < 3000  # an adult male voice
    assert piper.formant_f3 == first
    assert voice.EspeakVoice("hi").formant_f3 is None  # each espeak line's own F3 is read instead
