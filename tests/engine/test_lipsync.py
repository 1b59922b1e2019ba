"""Lip-sync: audio features, pose-free lip geometry, per-template model, mouth re-animation of a slot.

The talking clip's audio is a steady tone, so it checks plumbing (shapes, determinism, where pixels may
change); whether the model learns anything is checked on real footage with the shared media.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swapengine import media
from swapengine.errors import BadInput
from swapengine.faces.analysis import TemplateAnalysis, analyse_template
from swapengine.lips import lipsync, mouth
from swapengine.pipeline.context import EngineContext
from swapengine.voice import audiofeat

SLOT = (40, 70)


@pytest.fixture(scope="module")
def analysed(talking_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> TemplateAnalysis:
    cache = tmp_path_factory.mktemp("lipcache")
    with EngineContext(cache) as ctx:
        return analyse_template(talking_clip, cache, ctx)


@pytest.fixture(scope="module")
def trained(talking_clip: Path, analysed: TemplateAnalysis) -> tuple[lipsync.MouthModel, list[tuple[str, float]]]:
    reports: list[tuple[str, float]] = []
    model = lipsync.train_mouth_model(talking_clip, analysed, analysed.default_track_id(), None,
                                      progress=lambda s, f: reports.append((s, f)), epochs=4)
    return model, reports


def test_log_mel_resolves_a_tone() -> None:
    sr = 44100
    t = np.arange(sr) / sr
    low = audiofeat.log_mel(0.5 * np.sin(2 * np.pi * 300 * t), sr)
    high = audiofeat.log_mel(0.5 * np.sin(2 * np.pi * 3000 * t), sr)
    assert low.shape == high.shape and abs(low.shape[0] - 100) <= 2 and low.shape[1] == 40
    assert np.argmax(low[50]) < np.argmax(high[50]) - 10


def test_frame_windows_centre_on_video_frames() -> None:
    spec = audiofeat.FeatureSpec()
    mel = np.arange(300, dtype=np.float32)[:, None].repeat(spec.n_mels, axis=1)  # 3 s, value = mel frame index
    pad = np.full(spec.n_mels, -99.0, np.float32)
    windows = audiofeat.frame_windows(mel, 25.0, 80, spec, pad=pad)
    assert windows.shape == (80, spec.window, spec.n_mels)
    assert windows[10, spec.context, 0] == 42  # frame 10 spans 0.40-0.44 s: its centre is mel frame 42
    assert windows[0, 0, 0] == -99.0 and windows[79, -1, 0] == -99.0  # beyond the audio: silence, not 0


def test_clip_without_sound_is_refused(carphone_clip: Path) -> None:
    with pytest.raises(BadInput) as info:
        audiofeat.clip_samples(carphone_clip)
    assert info.value.code == "no_audio"


def test_envelope_follows_loudness() -> None:
    sr = 16000
    x = np.concatenate([0.001 * np.ones(sr), 0.5 * np.sin(np.arange(sr) * 0.3)])
    env = audiofeat.envelope_db(x, sr, 25.0, 50)
    assert env[:25].max() < env[25:].min() - 30


def test_lip_shape_ignores_head_pose(analysed: TemplateAnalysis) -> None:
    track = analysed.track(analysed.default_track_id())
    ref = mouth.mean_face(track.landmarks)
    lm = track.landmarks[10].astype(np.float64)
    angle = np.deg2rad(20)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = 1.7 * lm @ rot.T + np.array([30.0, -12.0, 5.0])
    assert np.abs(mouth.lip_shape(lm, ref) - mouth.lip_shape(moved, ref)).max() < 1e-6
    back = mouth.to_frame(mouth.lip_shape(moved, ref), moved, ref)
    assert np.abs(back - moved[list(mouth.LIPS), :2]).max() < 1e-6


def test_training_reports_progress_and_saves(trained: tuple[lipsync.MouthModel, list], analysed: TemplateAnalysis,
                                             talking_clip: Path) -> None:
    model, reports = trained
    values = [f for _, f in reports]
    assert values == sorted(values) and values[-1] == 1.0 and {s for s, _ in reports} == {"lips_features",
                                                                                          "lips_train"}
    samples = audiofeat.clip_samples(talking_clip)
    shapes = model.predict(samples, audiofeat.SR, 30)
    assert shapes.shape == (30, mouth.N_LIPS, 3) and np.isfinite(shapes).all()
    loaded = lipsync.load_mouth_model(lipsync.model_directory(analysed, model.track_id))
    assert np.array_equal(loaded.predict(samples, audiofeat.SR, 30), shapes)
    assert loaded.closed is not None and model.closed is not None and np.array_equal(loaded.closed, model.closed)


def test_bilabials_shut_the_lips(trained: tuple[lipsync.MouthModel, list]) -> None:
    """TTS phoneme timings: an 'm' at 0.40-0.50 s closes the mouth around frame 13 (centre 0.45 s) only."""
    model, _ = trained
    assert model.closed is not None
    assert mouth.opening(model.closed[None])[0] <= np.percentile(mouth.opening(model.predict(
        np.zeros(16000, np.float32), 16000, 30)), 50) + 0.05
    noise = np.random.default_rng(1).normal(0, 0.1, 16000).astype(np.float32)
    plain = model.predict(noise, 16000, 30)
    timed = model.predict(noise, 16000, 30, phonemes=[("h", 0.0, 0.1), ("m", 0.40, 0.50), ("a", 0.5, 0.6)])
    assert np.abs(timed[13] - model.closed).max() < 0.02
    assert np.array_equal(timed[:10], plain[:10]) and np.array_equal(timed[17:], plain[17:])
    shifted = model.predict(noise, 16000, 30, phonemes=[("m", 0.40, 0.50)], offset_s=0.2)  # slot starts later
    assert np.abs(shifted[7] - model.closed).max() < 0.05 and np.array_equal(shifted[13:], plain[13:])


def test_training_is_deterministic(trained: tuple[lipsync.MouthModel, list], analysed: TemplateAnalysis,
                                   talking_clip: Path) -> None:
    model, _ = trained
    again = lipsync.train_mouth_model(talking_clip, analysed, model.track_id, None, epochs=4, save=False)
    other = lipsync.train_mouth_model(talking_clip, analysed, model.track_id, None, epochs=4, seed=1, save=False)
    noise = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    assert np.array_equal(model.predict(noise, 16000, 25), again.predict(noise, 16000, 25))
    weights = [(v, again.net.state_dict()[k], other.net.state_dict()[k]) for k, v in model.net.state_dict().items()]
    assert all(np.array_equal(w.numpy(), same.numpy()) for w, same, _ in weights)
    assert not all(np.array_equal(w.numpy(), diff.numpy()) for w, _, diff in weights)


def test_too_little_footage_is_refused(analysed: TemplateAnalysis, talking_clip: Path) -> None:
    with pytest.raises(BadInput) as info:
        lipsync.train_mouth_model(talking_clip, analysed, analysed.default_track_id(), None, frames=range(10),
                                  save=False)
    assert info.value.code == "too_little_speech_footage"


def test_slot_changes_only_the_mouth(trained: tuple[lipsync.MouthModel, list], analysed: TemplateAnalysis,
                                     talking_clip: Path) -> None:
    model, _ = trained
    track = analysed.track(model.track_id)
    renderer = mouth.MouthRenderer(talking_clip, analysed, model.track_id)
    start, end = SLOT
    seconds = (end - start) / analysed.info.fps
    t = np.arange(int(seconds * 16000)) / 16000
    speechlike = (np.sin(2 * np.pi * 140 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    with media.FrameReader(talking_clip, analysed.info) as original, \
            media.FrameReader(talking_clip, analysed.info) as reader:
        changes = []
        outputs = lipsync.resync_slot(reader, start, end, speechlike, 16000, model, renderer, ease=4)
        for index, (before, after) in enumerate(zip(original, outputs, strict=True)):
            if not start <= index < end:
                assert np.array_equal(before, after), index
                continue
            diff = np.abs(after.astype(np.int16) - before).max(axis=2) > 2
            lm = track.landmarks_at(index)
            assert lm is not None
            # The mouth and the jaw that follows it: below the nose tip, within half an eye width of the
            # lower face's outline (cheek to cheek, down to the chin).
            margin = 0.5 * mouth.inter_ocular(lm)
            x0, x1 = lm[234, 0] - margin, lm[454, 0] + margin
            y0, y1 = lm[4, 1] - 1, lm[152, 1] + margin
            ys, xs = np.nonzero(diff)
            assert ((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)).all(), index
            changes.append(float(np.abs(after.astype(np.int16) - before).mean()))
    assert len(changes) == end - start
    assert max(changes) > 0.05  # the mouth really was re-rendered
    assert changes[0] < 0.5 * np.median(changes) and changes[-1] < 0.5 * np.median(changes)  # eased in/out


def test_real_footage_beats_mean_shape(shared_media: Path, tmp_path: Path) -> None:
    """Self-dub: trained on the first 80% of a real talking head, predicting the last 20% from its audio."""
    from evals.lipsync_eval import self_dub

    with EngineContext(tmp_path) as ctx:
        row = self_dub(shared_media / "templates" / "t03_retalk_face1.mp4", tmp_path, ctx)
    assert row["err"] < 0.95 * row["err_mean"], row
    assert row["r_pred"] > 0.2, row
