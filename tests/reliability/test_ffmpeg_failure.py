"""ffmpeg dies in the middle of encoding: the render fails with a message for the fan, nothing half-written.

The worker is pointed (IMAGEIO_FFMPEG_EXE) at a wrapper around the real ffmpeg. Every call but the
encoder goes straight through; the encoder gets part of the frames, then is killed with SIGKILL (so a
truncated MP4 is really on disk) and the wrapper exits 1 with a line on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from adstudio.renders.jobs import SORRY
from adstudio.renders.models import Render
from tests.conftest import ffmpeg
from tests.reliability.harness import assert_nothing_half_written, submit, wait_until_final

pytestmark = [pytest.mark.services, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

WRAPPER = """#!{python}
import os, signal, subprocess, sys
REAL, LIMIT = {real!r}, {limit}
argv = sys.argv[1:]
if "libx264" not in argv or "pipe:0" not in argv:
    os.execv(REAL, [REAL, *argv])
proc = subprocess.Popen([REAL, *argv], stdin=subprocess.PIPE)
copied = 0
while copied < LIMIT:
    chunk = sys.stdin.buffer.read(min(65536, LIMIT - copied))
    if not chunk:
        break
    proc.stdin.write(chunk)
    copied += len(chunk)
proc.stdin.flush()
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
sys.stderr.write(f"broken-ffmpeg: encoder crashed after {{copied}} bytes\\n")
sys.exit(1)
"""


@pytest.fixture
def broken_ffmpeg(tmp_path: Path, template) -> Path:
    """Fails after 40% of the clip's frames."""
    frame_bytes = template.info["width"] * template.info["height"] * 3
    path = tmp_path / "broken-ffmpeg"
    limit = frame_bytes * int(template.info["frame_count"] * 0.4)
    path.write_text(WRAPPER.format(python=sys.executable, real=ffmpeg(), limit=limit))
    path.chmod(0o755)
    return path


def test_ffmpeg_dies_mid_encode(workers, template, broken_ffmpeg: Path, astronaut_jpg: Path, media: Path) -> None:
    workers("brokenff", env={"IMAGEIO_FFMPEG_EXE": str(broken_ffmpeg)})
    render, fan = submit(template, astronaut_jpg)
    (render,) = wait_until_final([render.pk], timeout=90)

    assert render.state == Render.State.FAILED
    assert render.message == SORRY and render.error_code == "internal"
    assert "broken-ffmpeg: encoder crashed" in render.error, render.error[-2000:]
    assert_nothing_half_written(render, media)
    page = fan.get(render.get_absolute_url())
    assert page.status_code == 200 and SORRY.encode() in page.content
