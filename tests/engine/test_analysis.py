"""Template analysis: one track on the talking clip, cached on disk, second call decodes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from swapengine import media
from swapengine.analysis import TemplateAnalysis, analyse_template, content_key
from swapengine.context import EngineContext
from swapengine.errors import BadInput


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
