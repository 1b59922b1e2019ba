"""Template analysis: one track on the talking clip, cached on disk, second call decodes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from swapengine import media
from swapengine.errors import BadInput
from swapengine.faces.analysis import (
    TemplateAnalysis,
    analyse_template,
    content_key,
    occlusion,
    sample_colours,
    skin_points,
)
from swapengine.pipeline.context import EngineContext


@pytest.fixture(scope="module")
def analysed(talking_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TemplateAnalysis, list]:
    cache = tmp_path_factory.mktemp("cache")
    reports: list[tuple[str, float]] = []
    with EngineContext(cache) as ctx:
        result = analyse_template(talking_clip, cache, ctx, progress=lambda s, f: reports.append((s, f)))
    return result, reports


def test_one_track_covers_the_clip(analysed: tuple[TemplateAnalysis, list]) -> None:
    result, _ = analysed
    assert result.info.frame_count == 120
    assert len(result.tracks) == 1
    track = result.track(result.default_track_id())
    assert len(track.frames) >= 114 and track.start <= 2 and track.end >= 117
    assert track.landmarks.shape == (len(track.frames), 478, 3)
    assert all(track.landmarks_at(i) is not None for i in range(track.start, track.end + 1))
    # Landmarks are pixels of the 528x432 frames.
    assert track.landmarks[:, :, 0].min() > 0 and track.landmarks[:, :, 0].max() < 528


def test_summary_and_files(analysed: tuple[TemplateAnalysis, list]) -> None:
    result, _ = analysed
    summary = json.loads(json.dumps(result.summary()))
    assert summary["width"] == 528 and summary["frame_count"] == 120
    (entry,) = summary["tracks"]
    assert entry["id"] == 0 and entry["frames"] >= 114 and entry["mean_box"][0] > 100
    thumb = result.directory / entry["thumbnail"]
    assert thumb.stat().st_size > 2000 and thumb.read_bytes()[:2] == b"\xff\xd8"
    assert result.directory.name == result.key
    assert not [p for p in result.directory.parent.iterdir() if p.name.startswith(".")]


def test_progress_reports(analysed: tuple[TemplateAnalysis, list]) -> None:
    _, reports = analysed
    assert {stage for stage, _ in reports} == {"analyse"}
    values = [v for _, v in reports]
    assert values == sorted(values) and values[-1] == 1.0 and len(values) > 10


def test_second_call_is_cached(analysed: tuple[TemplateAnalysis, list], talking_clip: Path) -> None:
    first, _ = analysed
    with EngineContext(first.directory.parent) as ctx:
        started = time.perf_counter()
        again = analyse_template(talking_clip, first.directory.parent, ctx)
        assert time.perf_counter() - started < 1.0  # the first analysis takes ~3 s
        assert ctx.analyzer.mesh_calls == 0  # no face pass, so no decode either
    assert again.key == first.key
    assert [len(t.frames) for t in again.tracks] == [len(t.frames) for t in first.tracks]
    assert (again.tracks[0].landmarks == first.tracks[0].landmarks).all()


def test_content_key_follows_bytes_not_name(talking_clip: Path, tmp_path: Path) -> None:
    copy = tmp_path / "renamed.mp4"
    shutil.copy(talking_clip, copy)
    assert content_key(copy) == content_key(talking_clip)
    with open(copy, "ab") as fh:
        fh.write(b"\0")
    assert content_key(copy) != content_key(talking_clip)


def test_clip_without_a_face(tmp_path: Path) -> None:
    clip = tmp_path / "bars.mp4"
    subprocess.run(
        [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc=size=320x240:rate=25:duration=1", "-pix_fmt", "yuv420p", str(clip)],
        check=True, capture_output=True,
    )
    with EngineContext(tmp_path) as ctx, pytest.raises(BadInput) as info:
        analyse_template(clip, tmp_path / "cache", ctx)
    assert info.value.code == "no_face_in_clip"
    assert not (tmp_path / "cache" / content_key(clip)).exists()


def test_pose_occlusion_and_smoothing_stored(analysed: tuple[TemplateAnalysis, list]) -> None:
    result, _ = analysed
    track = result.tracks[0]
    assert track.pose is not None and track.pose.shape == (len(track.frames), 3)
    assert np.isfinite(track.pose).all() and np.abs(track.pose[:, :2]).max() < 45  # a talking man, no profile
    assert track.occlusion is not None and float(np.median(track.occlusion)) < 0.1
    assert track.segment_starts is not None and len(track.segment_starts) == 0
    entry = result.summary()["tracks"][0]
    assert entry["spans"] == [[track.start, track.end]] and len(entry["yaw_range"]) == 2
    step = np.abs(np.diff(track.landmarks[:, :468, :2], axis=0)).mean()
    assert 0 < step < 5  # smoothed, yet still moving with the face
    reloaded = TemplateAnalysis.load(result.directory)
    np.testing.assert_array_equal(reloaded.tracks[0].pose, track.pose)


def test_occluder_raises_the_estimate(talking_clip: Path, analysed: tuple[TemplateAnalysis, list]) -> None:
    """A dark patch (a microphone) painted over a quarter of the face in some frames: those read as
    occluded, the others do not."""
    result, _ = analysed
    track = result.tracks[0]
    skin = skin_points()
    samples = []
    painted = set(range(40, 60))
    with media.FrameReader(talking_clip, result.info) as reader:
        for index, frame in enumerate(reader):
            row = int(np.searchsorted(track.frames, index))
            if row >= len(track.frames) or track.frames[row] != index:
                continue
            lm = track.landmarks[row]
            if index in painted:
                frame = frame.copy()
                x0, y0 = int(lm[1, 0]), int(lm[1, 1])  # nose tip: cover the lower right quarter
                frame[y0:y0 + 120, x0:x0 + 120] = (40, 40, 40)
            samples.append(sample_colours(frame, lm, skin))
    estimate = occlusion(np.stack(samples))
    rows = np.isin(track.frames, sorted(painted))
    assert estimate[rows].min() > 0.12 and np.median(estimate[~rows]) < 0.05


def test_cut_and_re_entry_make_one_track(carphone_clip: Path, tmp_path: Path) -> None:
    """The man, a cut to an empty grey shot, a cut back with him elsewhere in the frame: one person."""
    clip = tmp_path / "reentry.mp4"
    graph = ("[0:v]scale=264:216,setsar=1,split=2[a][b];"
             "[a]trim=end_frame=45,setpts=PTS-STARTPTS,pad=640:360:0:0:color=gray[p1];"
             "color=c=0x305070:s=640x360:r=30000/1001,trim=end_frame=20,setsar=1[p2];"
             "[b]trim=start_frame=45,setpts=PTS-STARTPTS,pad=640:360:370:140:color=gray[p3];"
             "[p1][p2][p3]concat=n=3:v=1:a=0,format=yuv420p[v]")
    subprocess.run([media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(carphone_clip),
                    "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-crf", "16", str(clip)],
                   check=True, capture_output=True)
    with EngineContext(tmp_path) as ctx:
        result = analyse_template(clip, tmp_path / "cache", ctx)
    assert 45 in result.cuts and 65 in result.cuts
    assert len(result.tracks) == 1
    track = result.tracks[0]
    spans = track.spans()
    assert len(spans) == 2 and spans[0][0] <= 2 and 40 <= spans[0][1] <= 44 and 65 <= spans[1][0] <= 67
    assert track.landmarks_at(55) is None and track.landmarks_at(100) is not None
    assert result.summary()["cuts"] == result.cuts


def test_real_clip_with_cuts(shared_media: Path, tmp_path: Path) -> None:
    """Hamilton: stage shots and audience shots. Cuts are found, and no track runs across one."""
    clip = shared_media / "templates_multi" / "m01_fr_short_hamilton.mp4"
    with EngineContext(tmp_path) as ctx:
        started = time.perf_counter()
        result = analyse_template(clip, tmp_path / "cache", ctx)
        print(f"\nhamilton analysis {time.perf_counter() - started:.1f} s for {result.info.duration:.1f} s")
    assert {107, 236} <= set(result.cuts)
    assert len(result.tracks) >= 2
    for track in result.tracks:
        for first, last in track.spans():
            assert not [c for c in result.cuts if first < c <= last], (track.id, first, last)
        assert track.pose is not None and np.abs(track.pose[:, 0]).max() < 60
