"""The voice bank: the quality report of an uploaded recording, and the frame-level conversion it feeds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from swapengine import BadInput, assess_voice_recording
from swapengine.pipeline.dialogue import PreparedDialogue
from swapengine.voice import knnvc
from swapengine.voice import slots as dialogue
from swapengine.voice import tts as voice
from swapengine.voice.slots import SlotAudio, SlotLine
from swapengine.voice.speech import median_pitch, mel_ltas_db

SR = 16000


def vowels(seconds: float, sr: int = SR, f0: float = 140.0, formants: tuple[float, ...] = (700, 1200, 2600),
           seed: int = 0, rate: float = 3.0) -> np.ndarray:
    """A speech-like test signal: a glottal-like pulse train with a slow pitch swing through formant
    resonators, switched on and off `rate` times a second (syllables and pauses)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    pulses = np.sin(2 * np.pi * np.cumsum(f) / sr)
    source = np.sign(pulses) * np.abs(pulses) ** 8 + 0.02 * rng.standard_normal(n)
    x = source.copy()
    for fc in formants:
        b, a = signal.iirpeak(fc, fc / 80, sr)
        x = x + 3 * signal.lfilter(b, a, source)
    on = (np.sin(2 * np.pi * rate * t) > -0.2).astype(float)
    ramp = np.hanning(int(0.02 * sr))
    y = x * np.convolve(on, ramp / ramp.sum(), "same")
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


def wav(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    return dialogue.write_wav(path, np.asarray(samples, np.float32)[:, None], sr)


def test_a_clean_recording_is_usable_and_only_too_short(tmp_path: Path) -> None:
    report = assess_voice_recording(wav(tmp_path / "clean.wav", vowels(8.0)))
    assert 4.0 < report.speech_s <= 8.0 and report.duration_s == pytest.approx(8.0, abs=0.05)
    assert report.noise_floor_db > 40 and report.clipped_share == 0.0 and report.reverb_s < 0.5
    assert report.usable and 0.0 <= report.phone_coverage <= 1.0
    assert any(p.startswith("Only ") and "s of speech: upload at least 30 s" in p for p in report.problems)
    assert not any(word in " ".join(report.problems) for word in ("clipped", "noise", "echoes"))
    stored = json.loads(json.dumps(report.as_dict()))
    assert stored["usable"] is True and stored["problems"] == report.problems


def test_clipping_noise_and_echo_are_each_reported(tmp_path: Path) -> None:
    clean = vowels(8.0)
    clipped = np.clip(clean * 8, -1.0, 1.0)
    noisy = clean + 0.01 * np.random.default_rng(1).standard_normal(len(clean)).astype(np.float32)
    tail = np.arange(int(1.5 * SR)) / SR
    room = np.random.default_rng(2).standard_normal(len(tail)) * 10 ** (-3 * tail / 1.0)  # RT60 1 s
    room[0] = 3.0
    echoing = signal.fftconvolve(vowels(8.0, rate=1.0), room)[:len(clean)]  # words with pauses to ring in
    echoing = (0.5 * echoing / np.max(np.abs(echoing))).astype(np.float32)
    problems = {name: " ".join(assess_voice_recording(wav(tmp_path / f"{name}.wav", x)).problems)
                for name, x in (("clipped", clipped), ("noisy", noisy), ("echoing", echoing))}
    assert "clipped" in problems["clipped"] and "noise" not in problems["clipped"]
    assert "Background noise" in problems["noisy"] and "clipped" not in problems["noisy"]
    assert "echoes" in problems["echoing"] and "clipped" not in problems["echoing"]


@pytest.mark.parametrize(("name", "samples", "code"), [
    ("silence", np.zeros(3 * SR, np.float32), "voice_recording_silent"),
    ("short", vowels(0.5), "voice_recording_too_short"),
    ("tone", (0.3 * np.sin(2 * np.pi * 440 * np.arange(4 * SR) / SR)).astype(np.float32), "voice_recording_no_speech"),
    ("hiss", (0.1 * np.random.default_rng(3).standard_normal(4 * SR)).astype(np.float32), "voice_recording_no_speech"),
])
def test_unusable_recordings_are_refused_with_a_reason(tmp_path: Path, name: str, samples: np.ndarray,
                                                       code: str) -> None:
    with pytest.raises(BadInput) as caught:
        assess_voice_recording(wav(tmp_path / f"{name}.wav", samples))
    assert caught.value.code == code and caught.value.user_message


def test_a_file_that_is_not_audio_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("this is not a recording\n" * 50)
    with pytest.raises(BadInput) as caught:
        assess_voice_recording(text)
    assert caught.value.code == "voice_recording_unreadable"
    with pytest.raises(BadInput) as missing:
        assess_voice_recording(tmp_path / "absent.wav")
    assert missing.value.code == "voice_recording_missing"


def test_nearest_finds_the_material_frames_themselves() -> None:
    material = np.random.default_rng(4).standard_normal((300, 12)).astype(np.float32)
    order = np.array([5, 299, 0, 17, 150])
    found = knnvc.nearest(material[order], material, 3)
    assert found.shape == (5, 3) and list(found[:, 0]) == list(order)


def test_frames_mode_builds_the_line_from_the_material_frames() -> None:
    """A line at 500 Hz converted with material that only holds a 300 Hz voice comes out at 300 Hz."""
    sr = 22050
    t = np.arange(int(2.0 * sr)) / sr
    material = knnvc.Material.build([(0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)], sr)
    line = voice.Speech((0.3 * np.sin(2 * np.pi * 500 * t[:sr])).astype(np.float32), sr, [("a", 0.1, 0.5)])
    out = knnvc.convert(line, material, "frames")
    assert len(out.samples) == len(line.samples) and out.phonemes == line.phonemes
    spectrum = np.abs(np.fft.rfft(out.samples[2000:-2000]))
    assert abs(np.argmax(spectrum) * sr / (len(out.samples) - 4000) - 300) < 10


def whispered(seconds: float, sr: int, formants: tuple[float, ...], seed: int) -> np.ndarray:
    """Noise through wide resonances, in syllables: a colour (spectral envelope) with no pitch."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    source = rng.standard_normal(n)
    x = 0.1 * source
    for fc in formants:
        b, a = signal.iirpeak(fc, fc / 200, sr)
        x = x + signal.lfilter(b, a, source)
    on = (np.sin(2 * np.pi * 3.0 * np.arange(n) / sr) > -0.2).astype(float)
    ramp = np.hanning(int(0.02 * sr))
    y = x * np.convolve(on, ramp / ramp.sum(), "same")
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


def test_envelope_mode_moves_the_colour_and_keeps_the_pitch() -> None:
    """The line keeps its own harmonics (pitch) under the material's spectral envelope."""
    sr = 22050
    theirs = whispered(6.0, sr, (400, 2000, 3200), seed=5)
    ours = vowels(2.0, sr, f0=120.0, formants=(800, 1200, 2500), seed=6)
    out = knnvc.convert(voice.Speech(ours, sr), knnvc.Material.build([theirs], sr), "envelope").samples

    def distance(x: np.ndarray) -> float:  # shape only (level removed), above the first harmonics
        d = mel_ltas_db(x, sr, fmin=400) - mel_ltas_db(theirs, sr, fmin=400)
        return float(np.mean(np.abs(d - d.mean())))

    assert distance(out) < 0.7 * distance(ours)
    pitch_in, pitch_out = median_pitch(ours, sr), median_pitch(out, sr)
    assert pitch_in is not None and pitch_out is not None and abs(pitch_out / pitch_in - 1) < 0.1


@pytest.fixture(scope="module")
def piper() -> voice.PiperVoice:
    return voice.PiperVoice()


def test_a_voice_bank_file_is_used_as_conversion_material(piper: voice.PiperVoice, tmp_path: Path) -> None:
    """The clip alone holds 3 s of the speaker (too little: pitch and colour only); with a voice-bank
    recording the same line is converted frame by frame, with the bank's seconds counted."""
    sr = dialogue.SR
    clip = wav(tmp_path / "clip.wav", np.concatenate([vowels(1.2, sr), np.zeros(int(1.2 * sr), np.float32),
                                                     vowels(1.8, sr, seed=7)]), sr)
    bank = wav(tmp_path / "bank.wav", vowels(12.0, SR, seed=8))
    line = SlotLine(1.2, 2.4, "Priya")
    alone = dialogue.build_soundtrack(clip, None, [line], tmp_path / "a.wav", english=piper)[0]
    banked = dialogue.build_soundtrack(clip, None, [line], tmp_path / "b.wav", english=piper, voice_bank=(bank,))[0]
    assert alone.conversion == "pitch and colour" and alone.material_s < dialogue.KNN_MIN_SECONDS
    assert banked.conversion == "knn" and banked.material_s > alone.material_s + 5
    assert len(banked.samples) == len(alone.samples) == int(round(1.2 * sr)) and banked.phonemes


def test_an_unreadable_voice_bank_file_is_skipped_not_fatal(piper: voice.PiperVoice, tmp_path: Path) -> None:
    sr = dialogue.SR
    clip = wav(tmp_path / "clip.wav", np.concatenate([vowels(1.2, sr), np.zeros(int(1.2 * sr), np.float32),
                                                     vowels(1.8, sr, seed=7)]), sr)
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio\n" * 40)
    made = dialogue.build_soundtrack(clip, None, [SlotLine(1.2, 2.4, "Priya")], tmp_path / "a.wav", english=piper,
                                     voice_bank=(broken,))[0]
    assert made.conversion == "pitch and colour" and (tmp_path / "a.wav").is_file()


def test_the_render_notes_say_which_conversion_was_used(tmp_path: Path) -> None:
    line = SlotLine(1.2, 2.4, "Priya")
    audio = SlotAudio(line, np.zeros(10, np.float32), 44100, "voice", None, "Piper (joe-us)", "knn", 41.0)
    notes = PreparedDialogue(tmp_path / "x.wav", [audio], 0, []).notes()
    assert notes == ["Slot 1.20-2.40 s: said by Piper (joe-us); lips as filmed. Voice converted frame by frame "
                     "towards the celebrity's own speech (kNN, 41 s of their speech)."]
