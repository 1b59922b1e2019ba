"""Phoneme timings for a recording of known words: a TTS reading aligned onto it, other words refused."""

from __future__ import annotations

import numpy as np
import pytest

from swapengine.voice import alignment
from swapengine.voice import slots as dialogue
from swapengine.voice.tts import PiperVoice, Speech, fit_to_slot

MARKS = frozenset("ˈˌː ")


@pytest.fixture(scope="module")
def piper() -> PiperVoice:
    return PiperVoice()


def middles(phonemes: list[tuple[str, float, float]]) -> np.ndarray:
    return np.array([(a + b) / 2 for p, a, b in phonemes if p not in MARKS])


def test_a_slower_take_of_the_same_words_gets_their_timings(piper: PiperVoice) -> None:
    reading = piper.synthesise("Order from Sharma Sweets")
    take = piper.synthesise("Order from Sharma Sweets")  # Piper's durations differ from run to run
    recording = fit_to_slot(take, take.duration * 1.3)  # and the take is 30% slower
    assert recording.phonemes is not None
    got = alignment.align(reading, recording.samples, recording.sr)
    assert got is not None and [p for p, _, _ in got] == [p for p, _, _ in reading.phonemes or []]
    error = np.abs(middles(got) - middles(recording.phonemes))
    assert np.median(error) < 0.03 and np.percentile(error, 90) < 0.06
    assert all(0 <= a <= b <= recording.duration for _, a, b in got)
    assert [a for _, a, _ in got] == sorted(a for _, a, _ in got)


def test_other_words_are_refused(piper: PiperVoice) -> None:
    reading = piper.synthesise("Mumbai Bakery")
    take = piper.synthesise("Welcome to Pune, Rahul")
    assert alignment.align(reading, take.samples, take.sr) is None


def test_no_timings_or_no_sound_gives_none(piper: PiperVoice) -> None:
    take = piper.synthesise("Mumbai Bakery")
    assert alignment.align(Speech(take.samples, take.sr, None), take.samples, take.sr) is None
    assert alignment.align(take, np.zeros(100, np.float32), take.sr) is None


def test_recording_timings_only_for_text_the_english_voice_can_read(piper: PiperVoice) -> None:
    take = piper.synthesise("Mumbai Bakery")
    samples = take.samples
    assert dialogue.recording_timings("मुंबई बेकरी", samples, take.sr, piper) is None  # Devanagari
    assert dialogue.recording_timings("Mumbai Bakery", samples, take.sr, None) is None  # no voice
    timings = dialogue.recording_timings("Mumbai Bakery", samples, take.sr, piper)
    assert timings is not None and [p for p, _, _ in timings].count("m") == 2 and "b" in [p for p, _, _ in timings]
