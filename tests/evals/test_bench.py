"""Benchmark: the generated 720p clip is what it claims, and one short run reports sane, related numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import bench
from swapengine import media


@pytest.fixture(scope="module")
def short_clip(carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.make_clip(carphone_clip, tmp_path_factory.mktemp("bench") / "clip.mp4", seconds=1.2)


def test_generated_clip_is_720p_with_sound(short_clip: Path) -> None:
    info = media.probe(short_clip)
    assert (info.width, info.height) == (1280, 720)
    assert info.has_audio and info.frame_count == 30
    assert info.duration == pytest.approx(1.2, abs=0.05)


def test_transcode_uses_the_render_encoder(tmp_path: Path, short_clip: Path) -> None:
    argv = bench.transcode_argv(short_clip, tmp_path / "t.mp4")
    assert argv[argv.index("-preset") + 1] == "veryfast" and argv[argv.index("-c:v") + 1] == "libx264"
    seconds, rss = bench.run_measured(argv)
    assert seconds > 0 and 10 * 2**20 < rss < 2**30
    assert media.probe(tmp_path / "t.mp4").frame_count == 30


def test_one_short_run(short_clip: Path, astronaut_jpg: Path, tmp_path: Path) -> None:
    result = bench.run_bench(short_clip, astronaut_jpg, tmp_path)
    assert result.frames == 30 and (result.width, result.height) == (1280, 720)
    assert result.ratio == pytest.approx(result.render_seconds / result.transcode_seconds, rel=0.02)
    assert result.render_fps == pytest.approx(30 / result.render_seconds, rel=0.02)
    assert result.analyse_over_clip == pytest.approx(result.analyse_seconds / 1.2, rel=0.05)
    assert 50 < result.peak_rss_mb < 4000 and result.peak_child_rss_mb >= result.transcode_child_rss_mb
    assert (tmp_path / "render.mp4").stat().st_size > 10_000
    assert min(result.transcode_cpu_seconds, result.render_cpu_seconds, result.analyse_cpu_seconds) > 0
    assert result.cpu_ratio == pytest.approx(result.render_cpu_seconds / result.transcode_cpu_seconds, rel=0.05)
