"""What a clip is: `VideoInfo`, parsed from ffmpeg's human-readable `ffmpeg -i` report.

imageio-ffmpeg ships ffmpeg without ffprobe, so the report is the only description there is. Pure
parsing; running ffmpeg for it is swapengine.media.probing's job.
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from pathlib import Path

from swapengine.errors import BadInput

UPLOAD_HINT = "Please upload a video clip (MP4, MOV or WebM)."


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    fps_text: str
    frame_count: int
    duration: float
    has_audio: bool
    rotation: int
    source_width: int
    source_height: int

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 3


_INPUT = re.compile(r"^Input #0, ([\w,]+), from", re.M)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_SIZE = re.compile(r"(?:^|[ ,])(\d{2,5})x(\d{2,5})(?:[ ,]|$)")
_RATE = re.compile(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees|^\s*rotate\s*:\s*(-?\d+)", re.M)


def _rate_value(number: str, kilo: str) -> float:
    return float(number) * (1000.0 if kilo else 1.0)


def exact_rate(fps: float) -> str:
    """ffmpeg prints rounded rates ("29.97"); recover the NTSC fractions, else a short exact fraction."""
    for base in (24, 30, 48, 60, 120):
        if abs(fps - base * 1000 / 1001) < 0.006:
            return f"{base * 1000}/1001"
    rate = Fraction(fps).limit_denominator(100)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def not_video(message: str) -> BadInput:
    return BadInput(message, code="not_video")


def parse_report(report: str, path: Path | str) -> VideoInfo:
    """VideoInfo from an `ffmpeg -i` report, with frame_count still 0 (it needs a decode)."""
    fmt = _INPUT.search(report)
    if fmt is None:
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            raise not_video(f"The file is empty. {UPLOAD_HINT}")
        raise not_video(f"We could not read this file as a video; it may be damaged or of another kind. "
                         f"{UPLOAD_HINT}")
    if fmt.group(1).endswith("_pipe") or fmt.group(1) == "image2":
        raise not_video(f"This file is a still picture, not a video. {UPLOAD_HINT}")

    lines = report.splitlines()
    video_line, video_index, has_audio = None, -1, False
    for i, line in enumerate(lines):
        match = _STREAM.match(line)
        if not match:
            continue
        if match.group(1) == "Audio":
            has_audio = True
        elif match.group(1) == "Video" and video_line is None and "(attached pic)" not in line:
            video_line, video_index = match.group(2), i
    if video_line is None:
        raise not_video(f"This file has no picture (it may be sound only). {UPLOAD_HINT}")

    size = _SIZE.search(video_line)
    if size is None:
        raise not_video(f"We could not read the picture size of this video. {UPLOAD_HINT}")
    source_w, source_h = int(size.group(1)), int(size.group(2))

    rates = {kind: _rate_value(num, kilo) for num, kilo, kind in _RATE.findall(video_line)}
    # tbr is the stream's base rate: for variable-rate phone clips it is the smooth target, while the
    # average ("fps") can be far lower. An absurd tbr (a container timebase) falls back to the average.
    fps = rates.get("tbr", 0.0)
    if not 1.0 <= fps <= 121.0:
        fps = rates.get("fps", 0.0)
    if not 1.0 <= fps <= 121.0:
        raise not_video(f"We could not read the frame rate of this video. {UPLOAD_HINT}")

    rotation = 0
    for line in lines[video_index + 1:]:
        if _STREAM.match(line):
            break
        rot = _ROTATION.search(line)
        if rot:
            rotation = int(round(float(rot.group(1) or rot.group(2)))) % 360
            break
    width, height = (source_h, source_w) if rotation in (90, 270) else (source_w, source_h)
    fps_text = exact_rate(fps)
    duration_match = _DURATION.search(report)
    duration = 0.0
    if duration_match:
        h, m, s = duration_match.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    return VideoInfo(
        width=width - width % 2,
        height=height - height % 2,
        fps=float(Fraction(fps_text)),
        fps_text=fps_text,
        frame_count=0,
        duration=duration,
        has_audio=has_audio,
        rotation=rotation,
        source_width=source_w,
        source_height=source_h,
    )
