"""The speaker's mouth bank is decoded once per template and then mapped from beside the analysis."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from swapengine.errors import EngineError
from swapengine.faces.analysis import TemplateAnalysis, analyse_template
from swapengine.lips import mouth, mouthbank, slotmouth
from swapengine.pipeline.context import EngineContext


@pytest.fixture(scope="module")
def analysed_dir(talking_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("bankcache")
    with EngineContext(cache) as ctx:
        return analyse_template(talking_clip, cache, ctx).directory


@pytest.fixture
def analysis(analysed_dir: Path, tmp_path: Path) -> TemplateAnalysis:
    """A private copy of the analysis, so each test starts without a bank cache."""
    copy = tmp_path / "analysis"
    shutil.copytree(analysed_dir, copy)
    return TemplateAnalysis.load(copy)


@pytest.fixture
def clip(talking_clip: Path, tmp_path: Path) -> Path:
    """A private copy of the clip that a test may move away."""
    path = tmp_path / "clip.mp4"
    shutil.copyfile(talking_clip, path)
    return path


def assert_same_bank(a: mouth.MouthRenderer, b: mouth.MouthRenderer) -> None:
    assert len(a.patches) == len(b.patches) == len(a.patch_maps) == len(b.patch_maps) > 0
    for pa, pb in zip(a.patches, b.patches, strict=True):
        assert pa.dtype == pb.dtype == np.uint8 and pa.shape == pb.shape and pa.tobytes() == pb.tobytes()
    for ma, mb in zip(a.patch_maps, b.patch_maps, strict=True):
        assert np.array_equal(ma, mb)
    for name in mouth.BANK_GEOMETRY + ("bank_frames", "box", "simplices"):
        va, vb = getattr(a, name), getattr(b, name)
        assert va.dtype == vb.dtype and np.array_equal(va, vb), name


def test_cached_bank_equals_the_decoded_one_and_needs_no_clip(clip: Path, analysis: TemplateAnalysis) -> None:
    track_id = analysis.default_track_id()
    decoded = slotmouth.ensure_mouth_bank(clip, analysis, track_id)
    directory = mouthbank.bank_directory(analysis, track_id)
    assert (directory / "bank.json").is_file() and (directory / "pixels.npy").is_file()
    assert not [p for p in directory.parent.iterdir() if p.name.startswith(".")]  # no staging left behind
    clip.rename(clip.with_suffix(".gone"))  # a decode would now fail: the second build must not decode
    cached = mouth.MouthRenderer(clip, analysis, track_id)
    assert_same_bank(decoded, cached)
    assert not cached.patches[0].flags.writeable  # mapped from the file, not copied


def test_cached_bank_renders_the_same_frame(clip: Path, analysis: TemplateAnalysis) -> None:
    track_id = analysis.default_track_id()
    decoded = mouth.MouthRenderer(clip, analysis, track_id)
    cached = mouth.MouthRenderer(clip, analysis, track_id)
    start, n = 40, 10
    shapes = np.repeat(decoded.shapes[len(decoded.shapes) // 2][None], n, axis=0)
    plan_a, plan_b = decoded.plan(start, shapes, np.ones(n)), cached.plan(start, shapes, np.ones(n))
    assert np.array_equal(plan_a.bank_rows, plan_b.bank_rows)
    frame = np.full((analysis.info.height, analysis.info.width, 3), 90, np.uint8)
    out_a, out_b = decoded.render(frame, start + 3, plan_a), cached.render(frame, start + 3, plan_b)
    assert np.array_equal(out_a, out_b) and not np.array_equal(out_a, frame)


def _truncate_pixels(directory: Path) -> None:
    path = directory / "pixels.npy"
    path.write_bytes(path.read_bytes()[:1000])


def _garble_index(directory: Path) -> None:
    (directory / "index.npz").write_bytes(b"not a zip")


def _other_limits(directory: Path) -> None:
    meta = json.loads((directory / "bank.json").read_text())
    meta["max_bytes"] = 1
    (directory / "bank.json").write_text(json.dumps(meta))


def _other_format(directory: Path) -> None:
    meta = json.loads((directory / "bank.json").read_text())
    meta["format"] = mouthbank.FORMAT + 1
    (directory / "bank.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("spoil", [_truncate_pixels, _garble_index, _other_limits, _other_format])
def test_a_spoilt_or_mismatched_cache_is_rebuilt(spoil: Callable[[Path], None], clip: Path, analysis: TemplateAnalysis,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    track_id = analysis.default_track_id()
    decoded = mouth.MouthRenderer(clip, analysis, track_id)
    directory = mouthbank.bank_directory(analysis, track_id)
    spoil(directory)
    with caplog.at_level(logging.WARNING, logger="swapengine.mouthbank"):
        rebuilt = mouth.MouthRenderer(clip, analysis, track_id)
    assert "rebuilding" in caplog.text
    assert_same_bank(decoded, rebuilt)
    clip.rename(clip.with_suffix(".gone"))  # the rebuilt cache is whole again
    assert_same_bank(decoded, mouth.MouthRenderer(clip, analysis, track_id))


def test_other_limits_make_their_own_bank(clip: Path, analysis: TemplateAnalysis) -> None:
    track_id = analysis.default_track_id()
    full = mouth.MouthRenderer(clip, analysis, track_id)
    small = mouth.MouthRenderer(clip, analysis, track_id, max_bank=30)
    assert len(small.patches) == 30 < len(full.patches)
    meta = json.loads((mouthbank.bank_directory(analysis, track_id) / "bank.json").read_text())
    assert meta["max_bank"] == 30 and meta["patches"] == 30


def test_a_frame_subset_bypasses_the_cache(clip: Path, analysis: TemplateAnalysis) -> None:
    track_id = analysis.default_track_id()
    directory = mouthbank.bank_directory(analysis, track_id)
    subset = mouth.MouthRenderer(clip, analysis, track_id, frames=range(60))
    assert not directory.exists()
    assert set(subset.bank_frames.tolist()) <= set(range(60))
    mouth.MouthRenderer(clip, analysis, track_id)  # the full bank is cached now
    clip.rename(clip.with_suffix(".gone"))
    with pytest.raises(EngineError):  # a subset still decodes the clip, whatever is cached
        mouth.MouthRenderer(clip, analysis, track_id, frames=range(60))
