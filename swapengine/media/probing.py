"""`probe`: a clip's VideoInfo with an exact frame count (one fast decode, once per template)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from swapengine.errors import EngineError
from swapengine.media.argv import count_argv, describe_argv, version_argv
from swapengine.media.info import UPLOAD_HINT, VideoInfo, not_video, parse_report
from swapengine.media.runner import run

_FRAME = re.compile(r"frame=\s*(\d+)")


def ffmpeg_version() -> str:
    """ffmpeg's first `-version` line; FFmpegError or OSError when it cannot run (a readiness check)."""
    lines = run(version_argv(), timeout=20).stdout.decode("utf-8", errors="replace").splitlines()
    return lines[0] if lines else ""


def describe(path: Path | str) -> str:
    """The `ffmpeg -i` report (stderr). ffmpeg exits 1 because no output is given; that is expected."""
    return run(describe_argv(path), timeout=60, check=False).stderr


def probe(path: Path | str) -> VideoInfo:
    """Full probe, including an exact frame count from a fast decode (run once per template)."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"no such file: {path}")
    info = parse_report(describe(path), path)
    done = run(count_argv(path, info), timeout=3600, check=False)
    counts = _FRAME.findall(done.stderr)
    if done.returncode != 0 or not counts:
        if "Invalid data" in done.stderr or "Error" in done.stderr:
            raise not_video(f"This video could not be decoded; it may be damaged. {UPLOAD_HINT}")
        raise done.error()
    frames = int(counts[-1])
    if frames < 2:
        raise not_video(f"This file holds a single picture, not a video. {UPLOAD_HINT}")
    expected = info.duration * info.fps
    if expected > 0 and frames < 0.9 * expected - 2:
        raise not_video(
            f"This video looks damaged or incomplete: only {frames} of about {int(expected)} frames "
            f"could be read. Please upload the original file again."
        )
    return dataclasses.replace(info, frame_count=frames, duration=frames / info.fps)
