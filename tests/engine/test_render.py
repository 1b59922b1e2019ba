"""render: a fan's selfie onto the template's chosen track, with the length, sound, label and poster kept,
and every failure (cancel, bad selfie, broken output) leaving no file behind."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from swapengine import media
from swapengine.errors import BadInput, Cancelled, FFmpegError
from swapengine.faces.analysis import TemplateAnalysis, analyse_template
from swapengine.pipeline.context import EngineContext
from swapengine.pipeline.render import RenderRequest, poster_index, render
from swapengine.provenance.label import Label, LabelStamp, read_metadata


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineContext]:
    with EngineContext(tmp_path_factory.mktemp("cache")) as context:
        yield context


@pytest.fixture(scope="module")
def analysis(talking_clip: Path, ctx: EngineContext) -> TemplateAnalysis:
    return analyse_template(talking_clip, ctx.cache_root, ctx)


def request(clip: Path, analysis: TemplateAnalysis, selfie: Path, out: Path, corner: str = "bottom-right",
            track_id: int | None = None) -> RenderRequest:
    return RenderRequest(
        clip=clip, analysis=analysis,
        track_id=analysis.default_track_id() if track_id is None else track_id,
        selfie=selfie, out_video=out / "ad.mp4", out_poster=out / "poster.jpg",
        render_id="0b5e-test-render", label=Label(corner=corner),
    )


def face_box(analysis: TemplateAnalysis, index: int) -> tuple[slice, slice]:
    track = analysis.track(analysis.default_track_id())
    x0, y0, x1, y1 = track.boxes[int(np.searchsorted(track.frames, index))]
    # the middle of the face (eyes to mouth), where a swap must show and nothing else changes much
    dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
    return slice(int(max(y0 + dy, 0)), int(y1 - dy)), slice(int(max(x0 + dx, 0)), int(x1 - dx))


def test_render_keeps_length_sound_label_and_tags(
    talking_clip: Path, analysis: TemplateAnalysis, astronaut_jpg: Path, ctx: EngineContext, tmp_path: Path
) -> None:
    seen: list[tuple[str, float]] = []
    req = request(talking_clip, analysis, astronaut_jpg, tmp_path)
    result = render(req, ctx, progress=lambda stage, value: seen.append((stage, value)))
    info = analysis.info
    print(f"\nrender: {result.frames} frames {info.width}x{info.height} in {result.seconds:.2f} s "
          f"= {result.frames / result.seconds:.1f} fps (prepare included)")

    out = media.probe(req.out_video)
    assert result.frames == out.frame_count == info.frame_count
    assert out.duration == pytest.approx(info.duration) and result.duration == pytest.approx(info.duration)
    assert out.has_audio and (out.width, out.height, out.fps_text) == (info.width, info.height, info.fps_text)
    assert read_metadata(req.out_video)["adstudio_render"] == "0b5e-test-render"
    assert read_metadata(req.out_video)["adstudio_template"] == analysis.key

    stage_order = [s for i, (s, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != s]
    assert stage_order == ["prepare", "swap", "finish"]
    values = [v for _, v in seen]
    assert values == sorted(values) and values[0] == 0.0 and values[-1] == 1.0

    stamp = LabelStamp(req.label, info.width, info.height)
    rows, cols = face_box(analysis, result.poster_frame)
    with media.FrameReader(talking_clip, info) as before, media.FrameReader(req.out_video, out) as after:
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            assert stamp.visible_in(new), f"no label on frame {index}"
            if index == result.poster_frame:
                swapped = np.abs(new[rows, cols].astype(int) - old[rows, cols]).mean()
                backdrop = np.abs(new[:60, :120].astype(int) - old[:60, :120]).mean()
    print(f"mean abs change: face centre {swapped:.1f}, backdrop {backdrop:.1f} (re-encoding noise)")
    assert swapped > 6 and backdrop < 3, (swapped, backdrop)

    poster = cv2.imread(str(req.out_poster))
    assert poster is not None and poster.shape == (info.height, info.width, 3)
    assert result.poster_frame == poster_index(analysis.track(req.track_id))
    assert stamp.visible_in(poster)


def test_only_the_tracks_frames_are_swapped(
    talking_clip: Path, analysis: TemplateAnalysis, astronaut_jpg: Path, ctx: EngineContext, tmp_path: Path
) -> None:
    track = analysis.track(analysis.default_track_id())
    keep = track.frames < 60
    short = dataclasses.replace(track, frames=track.frames[keep], landmarks=track.landmarks[keep],
                                boxes=track.boxes[keep])
    half = dataclasses.replace(analysis, tracks=[short])
    req = request(talking_clip, half, astronaut_jpg, tmp_path, corner="top-left")
    render(req, ctx)
    info = analysis.info
    diffs = []
    with media.FrameReader(talking_clip, info) as before, media.FrameReader(req.out_video, info) as after:
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            rows, cols = face_box(analysis, index)
            diffs.append(np.abs(new[rows, cols].astype(int) - old[rows, cols]).mean())
    assert min(diffs[5:55]) > 6, diffs[:60]
    assert max(diffs[62:]) < 4, diffs[60:]  # re-encoding noise only


def test_cancel_mid_render_leaves_nothing(
    talking_clip: Path, analysis: TemplateAnalysis, astronaut_jpg: Path, ctx: EngineContext, tmp_path: Path
) -> None:
    threads_before = threading.active_count()
    calls: list[float] = []

    def cancel_halfway(stage: str, value: float) -> None:
        calls.append(value)
        if stage == "swap" and value > 0.5:
            raise Cancelled("the fan pressed cancel")

    req = request(talking_clip, analysis, astronaut_jpg, tmp_path)
    with pytest.raises(Cancelled):
        render(req, ctx, progress=cancel_halfway)
    assert 0.5 < calls[-1] < 0.6
    assert not req.out_video.exists() and not req.out_poster.exists()
    assert list(tmp_path.iterdir()) == []
    assert threading.active_count() == threads_before


@pytest.mark.parametrize("kind,code", [("sky", "no_face"), ("text", "not_image")])
def test_bad_selfie_fails_before_any_output(
    talking_clip: Path, analysis: TemplateAnalysis, ctx: EngineContext, tmp_path: Path, kind: str, code: str
) -> None:
    selfie = tmp_path / "selfie.jpg"
    if kind == "sky":
        sky = np.zeros((480, 640, 3), np.uint8)
        sky[:] = np.linspace(120, 250, 640, dtype=np.uint8)[None, :, None]
        cv2.imwrite(str(selfie), sky)
    else:
        selfie.write_text("not a picture")
    out = tmp_path / "out"
    out.mkdir()
    stages: list[str] = []
    with pytest.raises(BadInput) as caught:
        render(request(talking_clip, analysis, selfie, out), ctx, progress=lambda s, v: stages.append(s))
    assert caught.value.code == code
    assert set(stages) == {"prepare"}
    assert list(out.iterdir()) == []


def test_unknown_track_is_bad_input(
    talking_clip: Path, analysis: TemplateAnalysis, astronaut_jpg: Path, ctx: EngineContext, tmp_path: Path
) -> None:
    with pytest.raises(BadInput) as caught:
        render(request(talking_clip, analysis, astronaut_jpg, tmp_path, track_id=99), ctx)
    assert caught.value.code == "no_such_track"


def test_encoder_failure_stops_the_pipeline(
    talking_clip: Path, analysis: TemplateAnalysis, astronaut_jpg: Path, ctx: EngineContext, tmp_path: Path
) -> None:
    req = request(talking_clip, analysis, astronaut_jpg, tmp_path / "missing_dir")
    threads_before = threading.active_count()
    with pytest.raises(FFmpegError) as caught:
        render(req, ctx)
    assert "missing_dir" in caught.value.stderr
    assert threading.active_count() == threads_before


def test_real_clip_other_person_untouched(shared_media: Path, ctx: EngineContext, tmp_path: Path) -> None:
    """Hamilton clip: its picture starts 0.84 s after its sound, and it holds two tracked people."""
    clip = shared_media / "templates_multi" / "m01_fr_short_hamilton.mp4"
    selfie = shared_media / "selfies" / "s04_fr_rose_leslie.jpg"
    analysis = analyse_template(clip, ctx.cache_root, ctx)
    assert len(analysis.tracks) >= 2
    chosen, other = analysis.tracks[1], analysis.tracks[0]
    req = request(clip, analysis, selfie, tmp_path, track_id=chosen.id)
    result = render(req, ctx)
    print(f"\nhamilton 640x360: {result.frames / result.seconds:.1f} fps (prepare included)")
    info = analysis.info
    out = media.probe(req.out_video)
    assert out.frame_count == info.frame_count and out.duration == pytest.approx(info.duration)
    assert out.has_audio

    def centre(track_boxes: np.ndarray, row: int) -> tuple[slice, slice]:
        x0, y0, x1, y1 = track_boxes[row]
        dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
        return slice(int(max(y0 + dy, 0)), int(y1 - dy)), slice(int(max(x0 + dx, 0)), int(x1 - dx))

    changed_other: list[float] = []
    changed_chosen: list[float] = []
    present = {other.id: set(other.frames.tolist()), chosen.id: set(chosen.frames.tolist())}
    with media.FrameReader(clip, info) as before, media.FrameReader(req.out_video, out) as after:
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            for track, sink in ((other, changed_other), (chosen, changed_chosen)):
                if index in present[track.id]:
                    rows, cols = centre(track.boxes, int(np.searchsorted(track.frames, index)))
                    sink.append(np.abs(new[rows, cols].astype(int) - old[rows, cols]).mean())
    chosen_median, other_max = np.median(changed_chosen), max(changed_other)
    print(f"face centre change: chosen median {chosen_median:.1f}, other max {other_max:.1f}")
    assert other_max < 6, "the other person's face changed beyond re-encoding noise"
    assert np.median(changed_chosen) > 2 * max(np.median(changed_other), 1.0), (changed_chosen, changed_other)


def test_preview_is_written_before_the_render_ends(
    talking_clip: Path, analysis: TemplateAnalysis, astronaut_jpg: Path, ctx: EngineContext, tmp_path: Path
) -> None:
    preview = tmp_path / "preview.jpg"
    req = dataclasses.replace(request(talking_clip, analysis, astronaut_jpg, tmp_path), out_preview=preview)
    seen_at: list[float] = []

    def progress(stage: str, value: float) -> None:
        if preview.exists() and not seen_at:
            seen_at.append(value)

    render(req, ctx, progress=progress)
    assert seen_at and seen_at[0] < 0.5, seen_at  # the fan sees it early, not at the end
    still = cv2.imread(str(preview))
    assert still is not None and still.shape == (analysis.info.height, analysis.info.width, 3)
    assert not list(tmp_path.glob("*.part.jpg"))

    first = int(analysis.track(analysis.default_track_id()).frames[0])
    with media.FrameReader(talking_clip, analysis.info) as reader:
        original = next(frame.copy() for i, frame in enumerate(reader) if i == first)
    rows, cols = face_box(analysis, first)
    changed = np.abs(still[rows, cols].astype(int) - original[rows, cols].astype(int)).mean()
    assert changed > 8, f"the preview's face is the template's own (mean change {changed:.1f})"
