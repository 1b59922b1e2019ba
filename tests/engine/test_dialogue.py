"""Dialogue replacement: the slot's line is replaced (crossfaded, or in the dialogue stem), the rest kept."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from swapengine.errors import BadInput
from swapengine.media import ffmpeg_exe
from swapengine.voice import slots as dialogue
from swapengine.voice import speech
from swapengine.voice import tts as voice
from swapengine.voice.slots import SlotLine, Stems

SR = dialogue.SR
SLOT = (1.2, 2.4)


def write_mono(path: Path, samples: np.ndarray, sr: int) -> Path:
    return dialogue.write_wav(path, np.asarray(samples, np.float32)[:, None], sr)


def mux(video: Path, audio: Path, out: Path) -> Path:
    argv = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video), "-i", str(audio),
            "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", str(out)]
    proc = subprocess.run(argv, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return out


@pytest.fixture(scope="module")
def piper() -> voice.PiperVoice:
    return voice.PiperVoice()


@pytest.fixture(scope="module")
def media(piper: voice.PiperVoice, carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """4 s of Piper speech as a dialogue stem, a quiet chord as a music stem, and clips with each mix."""
    folder = tmp_path_factory.mktemp("dialogue")
    said = piper.synthesise("Well hello there. Happy Diwali, Rahul! Have a sweet one today.")
    line = voice.resample(said.samples, said.sr, SR) * 0.6
    n = int(4.0 * SR)
    speech_track = np.zeros(n, np.float32)
    speech_track[int(0.1 * SR):int(0.1 * SR) + min(len(line), n - int(0.1 * SR))] = line[:n - int(0.1 * SR)]
    t = np.arange(n) / SR
    music = (0.05 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t))).astype(np.float32)
    paths = {
        "dialogue": write_mono(folder / "dialogue.wav", speech_track, SR),
        "music": write_mono(folder / "music.wav", music, SR),
        "mixed": write_mono(folder / "mixed.wav", speech_track + music, SR),
    }
    paths["speech_clip"] = mux(carphone_clip, paths["dialogue"], folder / "speech.mp4")
    paths["music_clip"] = mux(carphone_clip, paths["mixed"], folder / "music.mp4")
    return paths


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, wav.getnchannels())
        return data.astype(np.float32) / 32768.0, wav.getframerate()


def test_splice_keeps_the_outside_and_crossfades_the_edges() -> None:
    track = np.ones((1000, 2), np.float32)
    dialogue.splice(track, np.full(400, -1.0, np.float32), 300, 30)
    assert np.all(track[:300] == 1) and np.all(track[700:] == 1)
    assert np.allclose(track[330:670], -1)
    assert np.all(np.abs(np.diff(track[:, 0])) < 0.11)  # no click: at most 2/30 per sample


def test_mixed_track_slot_is_replaced_and_the_rest_kept(media: dict[str, Path], piper, tmp_path: Path) -> None:
    out = tmp_path / "sound.wav"
    line = SlotLine(SLOT[0], SLOT[1], "Happy Diwali, Priya!")
    made = dialogue.build_soundtrack(media["speech_clip"], None, [line], out, english=piper)
    new, sr = read_wav(out)
    old = dialogue.decode_channels(media["speech_clip"], SR)
    assert sr == SR and new.shape == old.shape
    a, b = int(SLOT[0] * SR), int(SLOT[1] * SR)
    fade = int(dialogue.CROSSFADE_S * SR)
    assert np.max(np.abs(new[:a] - old[:a])) < 1e-3 and np.max(np.abs(new[b:] - old[b:])) < 1e-3
    assert np.allclose(new[a + fade:b - fade, 0], made[0].samples[fade:b - a - fade], atol=1e-3)
    assert made[0].source == "voice" and len(made[0].samples) == b - a
    assert speech.speech_regions(made[0].samples, SR)
    reference = speech.median_pitch(speech.load_audio(media["dialogue"], 16000), 16000)
    heard = speech.median_pitch(made[0].samples, SR)
    assert reference and heard and abs(heard / reference - 1) < 0.15


def test_stems_keep_the_music_under_the_slot(media: dict[str, Path], piper, tmp_path: Path) -> None:
    out = tmp_path / "sound.wav"
    line = SlotLine(SLOT[0], SLOT[1], "Priya")
    stems = Stems(dialogue=media["dialogue"], music=media["music"])
    made = dialogue.build_soundtrack(media["music_clip"], None, [line], out, stems=stems, english=piper)
    new, _ = read_wav(out)
    music = dialogue.decode_channels(media["music"], SR)
    a, b = int(SLOT[0] * SR), int(SLOT[1] * SR)
    fade = int(dialogue.CROSSFADE_S * SR)
    residual = new[a + fade:b - fade, 0] - music[a + fade:b - fade, 0] - made[0].samples[fade:b - a - fade]
    assert np.max(np.abs(residual)) < 2e-3  # the slot is exactly the new line over the untouched music
    assert np.max(np.abs(new[b:] - music[b:] - dialogue.decode_channels(media["dialogue"], SR)[b:])) < 2e-3


def test_a_recording_is_used_as_is_and_must_fit(media: dict[str, Path], piper, tmp_path: Path) -> None:
    take = piper.synthesise("Priya")
    recording = write_mono(tmp_path / "priya.wav", take.samples, take.sr)
    line = SlotLine(SLOT[0], SLOT[1], "Priya", recording=recording)
    made = dialogue.build_soundtrack(media["speech_clip"], None, [line], tmp_path / "a.wav")
    assert made[0].source == "recording"
    # Too long whatever Piper's random durations: speech at least twice the slot, beyond any stretch.
    # (A fixed 4x tile of a 0.46 s take spans 1.77 s, which fits the 1.2 s slot: 1 run in 5 failed.)
    copies = int(np.ceil(2 * (SLOT[1] - SLOT[0]) * take.sr / len(take.samples))) + 1
    long_take = np.tile(take.samples, copies)
    too_long = SlotLine(SLOT[0], SLOT[1], "Priya", recording=write_mono(tmp_path / "long.wav", long_take, take.sr))
    with pytest.raises(BadInput) as caught:
        dialogue.build_soundtrack(media["speech_clip"], None, [too_long], tmp_path / "b.wav")
    assert caught.value.code == "recording_too_long_for_slot"


def test_music_under_a_slot_is_detected(media: dict[str, Path]) -> None:
    dry = speech.load_audio(media["speech_clip"], 16000)
    wet = speech.load_audio(media["music_clip"], 16000)
    assert not dialogue.music_under_slot(dry, 16000, *SLOT)
    assert dialogue.music_under_slot(wet, 16000, *SLOT)


def test_default_speaker_is_the_visible_talking_face(talking_clip: Path, tmp_path: Path) -> None:
    from swapengine.faces.analysis import analyse_template
    from swapengine.pipeline.context import EngineContext

    with EngineContext(tmp_path) as ctx:
        analysis = analyse_template(talking_clip, tmp_path, ctx)
    only = analysis.tracks[0].id
    assert dialogue.default_speaker(analysis, 1.0, 2.0) == only
    motion = dialogue.mouth_motion(analysis, only, 0, 60)
    assert motion is not None and motion > 0.005  # the carphone man talks


def test_music_warning_on_real_clips(shared_media: Path) -> None:
    def flagged(clip: Path) -> float:
        x = speech.load_audio(clip, 16000)
        starts = np.arange(0, len(x) / 16000 - 1.2, 0.2)
        return float(np.mean([dialogue.music_under_slot(x, 16000, s, s + 1.2) for s in starts]))

    assert flagged(shared_media / "templates_multi" / "m01_fr_short_hamilton.mp4") > 0.8  # rap over music
    assert flagged(shared_media / "templates" / "t03_retalk_face1.mp4") < 0.1  # an interview in a quiet room
