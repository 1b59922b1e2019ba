"""The speaker-similarity judge (evals.speaker_judge) on speech made here: no ../shared media needed."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from evals import speaker_judge as sj

REASON = sj.available()
needs_judge = pytest.mark.skipif(REASON is not None, reason=f"speaker judge unavailable: {REASON} "
                                 "(pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels==2.0.14.post1)")

A = "Happy Diwali, Priya! The festival of lights is here again."
B = "Thank you for watching, and see you next week with more stories."


@pytest.fixture(scope="module")
def judge() -> sj.Judge:
    return sj.Judge()


@pytest.fixture(scope="module")
def piper_lines() -> tuple[np.ndarray, np.ndarray, int]:
    from swapengine.voice.tts import PiperVoice

    voice = PiperVoice()
    a, b = voice.synthesise(A), voice.synthesise(B)
    assert a.sr == b.sr
    return a.samples, b.samples, a.sr


@needs_judge
def test_same_voice_scores_higher_than_another_vocal_tract(judge, piper_lines) -> None:
    """Two sentences of the Piper voice against one of them played 25% faster (pitch and formants up
    by a quarter: a shorter vocal tract, the classic way to make a different-sounding speaker)."""
    a, b, sr = piper_lines
    same = judge.similarity(a, sr, b, sr)
    other = judge.similarity(a, sr, b, int(sr * 1.25))  # same samples read at a higher rate
    print(f"same voice {same:.3f}, faster playback {other:.3f}")
    assert same > 0.8
    assert same > other + 0.1, (same, other)


@needs_judge
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt install espeak-ng)")
def test_same_voice_scores_higher_than_espeak(judge, piper_lines) -> None:
    from swapengine.voice.tts import EspeakVoice

    a, b, sr = piper_lines
    robot = EspeakVoice("en-us").synthesise(B)
    same = judge.similarity(a, sr, b, sr)
    other = judge.similarity(a, sr, robot.samples, robot.sr)
    print(f"same voice {same:.3f}, espeak-ng {other:.3f}")
    assert same > other + 0.15, (same, other)


@needs_judge
def test_embedding_is_unit_norm_non_negative_and_rate_independent(judge, piper_lines) -> None:
    a, _, sr = piper_lines
    e = judge.embed(a, sr)
    assert e.shape == (256,) and abs(float(np.linalg.norm(e)) - 1) < 1e-5 and float(e.min()) >= 0
    from swapengine.voice.tts import resample

    assert sj.cosine(e, judge.embed(resample(a, sr, 44100), 44100)) > 0.98


def test_partials_cover_short_and_long_lines() -> None:
    assert len(sj.partial_slices(int(1.2 * sj.SR))) == 1  # a short slot: one zero-padded 1.6 s partial
    slices = sj.partial_slices(5 * sj.SR)
    assert all(s.stop - s.start == sj.PARTIAL_FRAMES for s in slices) and len(slices) == 5
    assert slices[-1].stop * sj.MEL_HOP >= 0.9 * 5 * sj.SR  # a last partial under 75% full is dropped

