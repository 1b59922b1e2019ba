"""A dialogue render: the slot's line in the soundtrack, the speaker's mouth re-animated in the slot only."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from swapengine import media
from swapengine.faces.analysis import TemplateAnalysis, analyse_template
from swapengine.lips import mouth, slotmouth
from swapengine.pipeline.context import EngineContext
from swapengine.pipeline.dialogue import DialogueRequest, PreparedDialogue, prepare_dialogue
from swapengine.pipeline.render import RenderRequest, render
from swapengine.provenance.label import Label
from swapengine.voice import audiofeat, speech
from swapengine.voice import slots as dialogue
from swapengine.voice.slots import SlotLine

SLOT = (1.2, 2.4)


@pytest.fixture(scope="module")
def analysed(speech_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> TemplateAnalysis:
    cache = tmp_path_factory.mktemp("cache")
    with EngineContext(cache) as ctx:
        analysis = analyse_template(speech_clip, cache, ctx)
    model = slotmouth.ensure_mouth_model(speech_clip, analysis, analysis.default_track_id())
    assert slotmouth.has_mouth_model(analysis, model.track_id)
    return analysis


def prepared_for(line: SlotLine, analysed: TemplateAnalysis, clip: Path, tmp_path: Path) -> PreparedDialogue:
    """The slot's line, soundtrack and mouth hook, made as a render makes them (the real Piper voice)."""
    with EngineContext(tmp_path) as ctx:
        return prepare_dialogue(DialogueRequest([line]), clip, analysed, tmp_path / "a.wav", ctx.voice)


def frames_of(path: Path) -> list[np.ndarray]:
    info = media.probe(path)
    with media.FrameReader(path, info) as reader:
        return [frame.copy() for frame in reader]


def test_hook_changes_only_the_mouth_in_the_slot(analysed: TemplateAnalysis, speech_clip: Path,
                                                 tmp_path: Path) -> None:
    track = analysed.default_track_id()
    prepared = prepared_for(SlotLine(*SLOT, "Happy Diwali, Priya!", speaker_track=track), analysed, speech_clip,
                            tmp_path)
    assert len(prepared.mouths) == 1 and prepared.audio_path.is_file()
    first, last = slotmouth.slot_frames(*SLOT, analysed.info.fps, analysed.info.frame_count)
    assert (first, last) == (36, 72)  # 29.97 fps
    originals = frames_of(speech_clip)
    changed = 0
    for index, frame in enumerate(originals):
        out = prepared.apply(index, frame)
        if not first <= index < last:
            assert out is frame  # untouched, not even copied
            continue
        diff = np.abs(out.astype(int) - frame.astype(int)).max(axis=2) > 12
        if diff.any():
            changed += 1
            ys, xs = np.nonzero(diff)
            lm = analysed.track(track).landmarks_at(index)
            assert lm is not None
            nose_y, chin_y = lm[4, 1], lm[152, 1]
            iod = np.linalg.norm(lm[263, :2] - lm[33, :2])
            assert ys.min() >= nose_y - 1 and ys.max() < chin_y + 0.4 * iod  # the mouth and the jaw below it
            assert lm[234, 0] - 0.5 * iod < xs.min() and xs.max() < lm[454, 0] + 0.5 * iod  # the lower face
    assert changed >= (last - first) // 2
    prepared.close()
    assert not prepared.audio_path.exists()


def test_dialogue_only_render(analysed: TemplateAnalysis, speech_clip: Path, tmp_path: Path) -> None:
    track = analysed.default_track_id()
    request = RenderRequest(
        clip=speech_clip, analysis=analysed, track_id=None, selfie=None, out_video=tmp_path / "ad.mp4",
        out_poster=tmp_path / "poster.jpg", render_id="r1", label=Label(),
        dialogue=DialogueRequest([SlotLine(*SLOT, "Priya", speaker_track=track)]),
    )
    with EngineContext(tmp_path) as ctx:
        result = render(request, ctx)
    assert result.frames == analysed.info.frame_count and request.out_poster.is_file()
    assert result.notes == ["Slot 1.20-2.40 s: said by Piper (joe-us); lips articulated from the voice's phoneme "
                            "timings. Voice moved to the celebrity's pitch and average voice colour only (2 s of "
                            "their speech: a voice bank of 5 s or more would convert it frame by frame)."]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".wav") == []  # the soundtrack WAV is gone
    info = media.probe(request.out_video)
    assert info.has_audio and info.frame_count == analysed.info.frame_count
    old, new = speech.load_audio(speech_clip, 16000), speech.load_audio(request.out_video, 16000)
    n = min(len(old), len(new))
    a, b = int(SLOT[0] * 16000), int(SLOT[1] * 16000)
    assert np.corrcoef(old[:a - 800], new[:a - 800])[0, 1] > 0.95
    assert np.sqrt(np.mean((old[a:b] - new[a:b]) ** 2)) > 0.3 * np.sqrt(np.mean(old[a:b] ** 2))
    assert n > 3.9 * 16000


def test_a_swap_on_the_speaker_follows_the_new_lips(analysed: TemplateAnalysis, speech_clip: Path,
                                                    astronaut_jpg: Path, tmp_path: Path) -> None:
    from swapengine.lips.mouth import LIPS

    track = analysed.track(analysed.default_track_id())
    lines = [SlotLine(*SLOT, "Priya", speaker_track=track.id)]
    with EngineContext(tmp_path) as ctx:
        prepared = prepare_dialogue(DialogueRequest(lines), speech_clip, analysed, tmp_path / "a.wav",
                                             ctx.voice)
        outside, inside = track.landmarks_at(10), track.landmarks_at(50)
        assert outside is not None and inside is not None
        assert prepared.landmarks(10, track.id, outside) is outside
        assert prepared.landmarks(50, track.id + 1, inside) is inside
        moved = prepared.landmarks(50, track.id, inside)
        from swapengine.lips import jaw

        others = [i for i in range(478) if i not in LIPS and i not in jaw.FOLLOWERS]
        assert np.array_equal(moved[others], inside[others]) and not np.allclose(moved[list(LIPS)], inside[list(LIPS)])
        lip_drop = moved[17, 1] - inside[17, 1]
        assert moved[152, 1] - inside[152, 1] == pytest.approx(0.8 * lip_drop, abs=1e-3)  # the chin follows
        prepared.close()
        request = RenderRequest(
            clip=speech_clip, analysis=analysed, track_id=track.id, selfie=astronaut_jpg,
            out_video=tmp_path / "both.mp4", out_poster=tmp_path / "both.jpg", render_id="r2", label=Label(),
            dialogue=DialogueRequest(lines),
        )
        result = render(request, ctx)
    assert result.frames == analysed.info.frame_count and media.probe(request.out_video).has_audio


@pytest.fixture(scope="module")
def real_slot(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """A real interview clip rendered with a new line in 2.0-3.2 s: mouth openings (inner-lip gap over eye
    width, Face Mesh on the decoded frames) of the ad and the template there, and the ad's loudness."""
    from swapengine.voice import audiofeat

    tmp_path = tmp_path_factory.mktemp("real-slot")
    clip = shared_media / "templates" / "t03_retalk_face1.mp4"
    start, end = 2.0, 3.2
    with EngineContext(tmp_path) as ctx:
        analysis = analyse_template(clip, tmp_path, ctx)
        speaker = dialogue.default_speaker(analysis, start, end)
        assert speaker == analysis.default_track_id()
        request = RenderRequest(
            clip=clip, analysis=analysis, track_id=None, selfie=None, out_video=tmp_path / "ad.mp4",
            out_poster=tmp_path / "poster.jpg", render_id="real", label=Label(),
            dialogue=DialogueRequest([SlotLine(start, end, "Happy Diwali, Priya", speaker_track=speaker)]),
        )
        render(request, ctx)
        first, last = slotmouth.slot_frames(start, end, analysis.info.fps, analysis.info.frame_count)

        def openings(frames: list[np.ndarray]) -> np.ndarray:
            out = []
            for frame in frames:
                lm = ctx.analyzer.detect_image(frame)[0].landmarks
                out.append(np.linalg.norm(lm[13, :2] - lm[14, :2]) / np.linalg.norm(lm[33, :2] - lm[263, :2]))
            return np.asarray(out)

        new_frames, old_frames = frames_of(request.out_video), frames_of(clip)
        result = {
            "new": openings(new_frames[first:last]), "old": openings(old_frames[first:last]),
            "before": np.asarray([np.abs(a.astype(int) - b.astype(int)).mean()
                                  for a, b in zip(new_frames[:first - 2], old_frames[:first - 2], strict=True)]),
        }
    old_sound, sound = speech.load_audio(clip, 16000), speech.load_audio(request.out_video, 16000)
    i, j = int(start * 16000), int(end * 16000)
    result["envelope"] = audiofeat.envelope_db(sound[i:j], 16000, analysis.info.fps, last - first)
    result["sound_change"] = np.asarray(np.sqrt(np.mean((sound[i:j] - old_sound[i:j]) ** 2))
                                        / np.sqrt(np.mean(old_sound[i:j] ** 2)))
    return result


def test_real_template_says_the_new_line(real_slot: dict[str, np.ndarray]) -> None:
    assert float(real_slot["sound_change"]) > 0.5  # the slot says something else
    assert np.mean(np.abs(real_slot["new"] - real_slot["old"])) > 0.01  # the mouth was re-animated
    assert real_slot["before"].max() < 4.0  # frames before the slot: only the label and coding noise differ


def test_real_template_mouth_articulates_the_new_line(real_slot: dict[str, np.ndarray]) -> None:
    """Face Mesh on the rendered frames of "Happy Diwali, Priya": the lips shut between syllables (the p
    of Happy and of Priya: the phoneme driver closes them, where a loudness-driven mouth stayed open), open
    wide on the vowels, and still broadly follow the sound (r 0.58 when written, the filmed mouth 0.49)."""
    new = real_slot["new"]
    shut, wide = new <= 0.01, new >= 0.05
    # Closures that the mouth opens out of again: a shut run followed, later, by an open frame.
    reopened = sum(1 for i in range(1, len(new)) if shut[i - 1] and not shut[i] and wide[i:].any())
    assert reopened >= 2, new.round(3)
    assert new.max() > 0.1
    assert np.corrcoef(new, real_slot["envelope"])[0, 1] > 0.3


def test_loudness_shapes_open_with_the_sound() -> None:
    fps, sr, n = 25.0, 16000, 50
    t = np.arange(int(n / fps * sr)) / sr
    burst = (np.sin(2 * np.pi * 2.0 * t) > 0) * np.sin(2 * np.pi * 180 * t)  # 4 syllables in 2 s
    gaps = np.linspace(0.0, 0.3, 40)
    bank = np.zeros((40, 40, 3), np.float32)
    bank[:, mouth.INNER_BOTTOM, 1] = gaps  # the inner lips part by `gaps`
    shapes = slotmouth.loudness_shapes(burst.astype(np.float32), sr, fps, n, bank)
    opened = mouth.opening(shapes)
    envelope = audiofeat.envelope_db(burst.astype(np.float32), sr, fps, n)
    assert shapes.shape == (n, 40, 3) and np.corrcoef(opened, envelope)[0, 1] > 0.8
    assert opened.min() < 0.05 and opened.max() > 0.2  # closed in the pauses, open on the syllables


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt install espeak-ng)")
def test_a_hindi_line_says_its_lips_follow_loudness(analysed: TemplateAnalysis, speech_clip: Path,
                                                   tmp_path: Path) -> None:
    """espeak-ng gives no phoneme timings: the mouth falls back to loudness, and the notes say so."""
    line = SlotLine(*SLOT, "दिवाली मुबारक", speaker_track=analysed.default_track_id())
    prepared = prepared_for(line, analysed, speech_clip, tmp_path)
    try:
        assert [hook.driver for hook in prepared.mouths] == ["loudness"]
        assert prepared.notes()[0].startswith("Slot 1.20-2.40 s: said by espeak-ng (hi); lips following the line's "
                                              "loudness (fallback: no phoneme timings or no lip model). Voice moved")
    finally:
        prepared.close()


@pytest.mark.parametrize(("said", "driver"), [("Happy Diwali, Priya!", "aligned phonemes"),
                                              ("Welcome to Pune, Rahul", "lip model")])
def test_a_recording_of_the_slots_words_is_articulated(analysed: TemplateAnalysis, speech_clip: Path,
                                                       tmp_path: Path, said: str, driver: str) -> None:
    """A take of the line's own words gets the reading's timings aligned onto it; a take of other words
    is not aligned, and the lip model moves the lips."""
    from swapengine.voice.tts import PiperVoice

    take = PiperVoice().synthesise(said)
    wav = dialogue.write_wav(tmp_path / "take.wav", take.samples[:, None], take.sr)
    line = SlotLine(*SLOT, "Happy Diwali, Priya!", speaker_track=analysed.default_track_id(), recording=wav)
    prepared = prepared_for(line, analysed, speech_clip, tmp_path)
    try:
        assert [hook.driver for hook in prepared.mouths] == [driver]
        assert (prepared.slots[0].phonemes is not None) == (driver == "aligned phonemes")
    finally:
        prepared.close()
