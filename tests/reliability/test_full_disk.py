"""The media disk fills up during a render: it fails with a message for the fan and leaves nothing behind.

Two ways to fill a disk, both run when possible:
- `tmpfs`: MEDIA_ROOT is a small tmpfs, shrunk (remount) after the upload to a few KB more than it
  holds, so the encoder hits ENOSPC. Needs root (mount); skipped with a reason otherwise.
- `rlimit`: the worker runs under RLIMIT_FSIZE of 32 KB, so the encoder's output (about 60 KB) cannot
  grow past it (the kernel stops ffmpeg with SIGXFSZ). Works anywhere; the worker's log goes through
  a pipe so the limit does not touch it.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from adstudio.renders.jobs import SORRY
from adstudio.renders.models import Render
from tests.reliability.harness import assert_nothing_half_written, submit, wait_until_final

pytestmark = [pytest.mark.services, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

HEADROOM = 16 * 1024
FSIZE_LIMIT = 32 * 1024


def _mount(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["mount", *args], capture_output=True, timeout=30)


@pytest.fixture
def tmpfs_media(media: Path) -> Iterator[Path]:
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("tmpfs full-disk case needs root to mount; the rlimit case covers this machine")
    done = _mount("-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(media))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); the rlimit case covers it")
    try:
        yield media
    finally:
        subprocess.run(["umount", "-l", str(media)], capture_output=True, timeout=30)


def _used_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


def _assert_failed_for_the_fan(render: Render, fan, media: Path) -> None:
    assert render.state == Render.State.FAILED, (render.state, render.message)
    assert render.message == SORRY and render.error_code == "internal"
    assert_nothing_half_written(render, media)
    page = fan.get(render.get_absolute_url())
    assert page.status_code == 200 and SORRY.encode() in page.content


def test_disk_full_on_tmpfs(tmpfs_media: Path, workers, template, astronaut_jpg: Path) -> None:
    render, fan = submit(template, astronaut_jpg)  # the selfie and the template fit...
    size = _used_bytes(tmpfs_media) + HEADROOM
    shrunk = _mount("-o", f"remount,size={size}", str(tmpfs_media))
    assert shrunk.returncode == 0, shrunk.stderr
    workers("diskfull")  # ...the render (about 60 KB of MP4 and a poster) does not
    (render,) = wait_until_final([render.pk], timeout=90)

    assert "No space left on device" in render.error, render.error[-2000:]
    _assert_failed_for_the_fan(render, fan, tmpfs_media)


def test_file_size_limit(workers, template, astronaut_jpg: Path, media: Path) -> None:
    workers("fsizelimit", preexec_fn=_limit_file_size)
    render, fan = submit(template, astronaut_jpg)
    (render,) = wait_until_final([render.pk], timeout=90)

    assert "ffmpeg exited" in render.error, render.error[-2000:]
    _assert_failed_for_the_fan(render, fan, media)
