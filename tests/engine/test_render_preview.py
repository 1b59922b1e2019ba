"""The preview still: the first composed frame appears while the render runs, whole, with the fan in it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from swapengine import media
from swapengine.analysis import TemplateAnalysis, analyse_template
from swapengine.context import EngineContext
from swapengine.render import render
from tests.engine.test_render import face_box, request


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineContext]:
    with EngineContext(tmp_path_factory.mktemp("cache")) as context:
        yield context


@pytest.fixture(scope="module")
def analysis(talking_clip: Path, ctx: EngineContext) -> TemplateAnalysis:
    return analyse_template(talking_clip, ctx.cache_root, ctx)


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
