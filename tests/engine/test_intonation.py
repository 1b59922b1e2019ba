"""The line's pitch movement scaled towards the speaker's (TD-PSOLA): exact when nothing moves, the
right pitch when it does, the movement widened or narrowed as asked."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from swapengine.voice import intonation, speech
from tests.engine.vowels import vowel

SR = 22050


def voice_like(f0: np.ndarray) -> np.ndarray:
    return vowel(f0, SR, len(f0) / SR)


def gliding(seconds: float = 1.6, centre: float = 120.0, depth_st: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return voice_like(centre * 2 ** (depth_st * np.sin(2 * np.pi * 1.5 * t) / 12))


def test_no_shift_gives_the_line_back() -> None:
    x = gliding()
    track = intonation.Track.of(x, SR)
    y = intonation.psola(x, SR, track, np.zeros(len(track.times)))
    assert y.shape == x.shape and np.allclose(y, x, atol=1e-6)


def test_a_shift_moves_the_pitch_and_keeps_the_length() -> None:
    x = voice_like(np.full(SR, 140.0))
    track = intonation.Track.of(x, SR)
    y = intonation.psola(x, SR, track, np.full(len(track.times), 3.0))
    assert len(y) == len(x)
    heard = speech.median_pitch(y, SR)
    assert heard is not None and heard == pytest.approx(140.0 * 2 ** (3 / 12), rel=0.03)
    # The formants stay where they were: the spectrum's peak is still near 700 Hz, not 3 semitones up.
    freqs, power = signal.welch(y, SR, nperseg=2048)
    band = (freqs > 400) & (freqs < 1000)
    assert abs(freqs[band][np.argmax(power[band])] - 700) < 80


@pytest.mark.parametrize("factor", [0.5, 1.5])
def test_the_movement_is_scaled_towards_the_target(factor: float) -> None:
    x = gliding()
    own = intonation.spread(x, SR)
    assert own is not None and 1.5 < own < 2.6  # a +-2 semitone glide (a sine: IQR/1.349 = 1.05 x 2)
    y, scale = intonation.scale_contour(x, SR, own * factor)
    assert scale == factor
    after = intonation.spread(y, SR)
    assert after is not None
    assert (after < 0.75 * own) if factor < 1 else (after > 1.2 * own)
    centre = speech.median_pitch(x, SR)
    # Roughly the same centre (the tracker's bias); convert_towards sets the median after this anyway.
    assert centre is not None and speech.median_pitch(y, SR) == pytest.approx(centre, rel=0.1)


def test_unknown_or_near_targets_leave_the_line_alone() -> None:
    x = gliding()
    own = intonation.spread(x, SR)
    assert own is not None
    for target in (None, own * 1.02):
        y, scale = intonation.scale_contour(x, SR, target)
        assert scale == 1.0 and np.array_equal(y, x)
    silence = np.zeros(SR, np.float32)
    assert intonation.scale_contour(silence, SR, 2.0)[1] == 1.0


def test_local_spread_is_the_movement_over_stretches_of_that_length() -> None:
    steady = voice_like(np.full(3 * SR, 120.0))
    moving = gliding(3.0)
    flat, varied = intonation.local_spread(steady, SR, 1.0), intonation.local_spread(moving, SR, 1.0)
    assert flat is not None and varied is not None and flat < 0.2 < 1.0 < varied
    assert intonation.local_spread(np.zeros(SR, np.float32), SR, 1.0) is None


def test_a_result_whose_median_jumps_is_not_used(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The guard against misplaced pitch marks (an octave sung): the line comes back as it was, and the
    log says so. The PSOLA step is replaced by one that really does sing the glide an octave up."""
    x = gliding()
    own = intonation.spread(x, SR)
    assert own is not None
    monkeypatch.setattr(intonation, "psola", lambda samples, sr, track, shift: gliding(centre=240.0))
    y, scale = intonation.scale_contour(x, SR, own * 1.5)
    assert scale == 1.0 and np.array_equal(y, x)
    assert "pitch movement not scaled" in caplog.text
