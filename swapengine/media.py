"""ffmpeg through argv lists and pipes: probe, frame reader, frame writer, JPEG posters.

Everything goes through the static ffmpeg that imageio-ffmpeg ships (there is no ffprobe), so probing
parses the human-readable `ffmpeg -i` report. Frames are streamed; no clip is ever held whole in memory.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import io
import re
import subprocess
import threading
import typing
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from .errors import BadInput, EngineError, FFmpegError

UPLOAD_HINT = "Please upload a video clip (MP4, MOV or WebM)."


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


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


def describe(path: Path | str) -> str:
    """The `ffmpeg -i` report (stderr). ffmpeg exits 1 because no output is given; that is expected."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    return proc.stderr.decode("utf-8", errors="replace")


_INPUT = re.compile(r"^Input #0, ([\w,]+), from", re.M)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_SIZE = re.compile(r"(?:^|[ ,])(\d{2,5})x(\d{2,5})(?:[ ,]|$)")
_RATE = re.compile(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees|^\s*rotate\s*:\s*(-?\d+)", re.M)
_FRAME = re.compile(r"frame=\s*(\d+)")


def _rate_value(number: str, kilo: str) -> float:
    return float(number) * (1000.0 if kilo else 1.0)


def exact_rate(fps: float) -> str:
    """ffmpeg prints rounded rates ("29.97"); recover the NTSC fractions, else a short exact fraction."""
    for base in (24, 30, 48, 60, 120):
        if abs(fps - base * 1000 / 1001) < 0.006:
            return f"{base * 1000}/1001"
    rate = Fraction(fps).limit_denominator(100)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _not_video(message: str) -> BadInput:
    return BadInput(message, code="not_video")


def parse_report(report: str, path: Path | str) -> VideoInfo:
    """VideoInfo from an `ffmpeg -i` report, with frame_count still 0 (it needs a decode)."""
    fmt = _INPUT.search(report)
    if fmt is None:
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            raise _not_video(f"The file is empty. {UPLOAD_HINT}")
        raise _not_video(f"We could not read this file as a video; it may be damaged or of another kind. "
                         f"{UPLOAD_HINT}")
    if fmt.group(1).endswith("_pipe") or fmt.group(1) == "image2":
        raise _not_video(f"This file is a still picture, not a video. {UPLOAD_HINT}")

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
        raise _not_video(f"This file has no picture (it may be sound only). {UPLOAD_HINT}")

    size = _SIZE.search(video_line)
    if size is None:
        raise _not_video(f"We could not read the picture size of this video. {UPLOAD_HINT}")
    source_w, source_h = int(size.group(1)), int(size.group(2))

    rates = {kind: _rate_value(num, kilo) for num, kilo, kind in _RATE.findall(video_line)}
    # tbr is the stream's base rate: for variable-rate phone clips it is the smooth target, while the
    # average ("fps") can be far lower. An absurd tbr (a container timebase) falls back to the average.
    fps = rates.get("tbr", 0.0)
    if not 1.0 <= fps <= 121.0:
        fps = rates.get("fps", 0.0)
    if not 1.0 <= fps <= 121.0:
        raise _not_video(f"We could not read the frame rate of this video. {UPLOAD_HINT}")

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


def _video_filter(info: VideoInfo) -> str:
    # ffmpeg has already autorotated when this runs; crop (not scale) keeps pixels exact for odd sizes.
    # `-fps_mode cfr` beside it matters too: when the picture starts later than the sound, ffmpeg repeats
    # the first frame from the file's start, which keeps the template's audio in sync; the null muxer
    # used for counting would otherwise skip that padding and count fewer frames than the reader yields.
    return f"fps={info.fps_text},crop={info.width}:{info.height}:0:0"


def decode_argv(path: Path | str, info: VideoInfo) -> list[str]:
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(path),
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", _video_filter(info), "-fps_mode", "cfr",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1",
    ]


def count_argv(path: Path | str, info: VideoInfo) -> list[str]:
    """Same input and filters as decode_argv, into the null muxer: the count the reader will yield."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats",
        "-i", str(path),
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", _video_filter(info), "-fps_mode", "cfr",
        "-f", "null", "-",
    ]


def probe(path: Path | str) -> VideoInfo:
    """Full probe, including an exact frame count from a fast decode (run once per template)."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"no such file: {path}")
    info = parse_report(describe(path), path)
    argv = count_argv(path, info)
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=3600)
    stderr = proc.stderr.decode("utf-8", errors="replace")
    counts = _FRAME.findall(stderr)
    if proc.returncode != 0 or not counts:
        if "Invalid data" in stderr or "Error" in stderr:
            raise _not_video(f"This video could not be decoded; it may be damaged. {UPLOAD_HINT}")
        raise FFmpegError(argv, proc.returncode, stderr)
    frames = int(counts[-1])
    if frames < 2:
        raise _not_video(f"This file holds a single picture, not a video. {UPLOAD_HINT}")
    expected = info.duration * info.fps
    if expected > 0 and frames < 0.9 * expected - 2:
        raise _not_video(
            f"This video looks damaged or incomplete: only {frames} of about {int(expected)} frames "
            f"could be read. Please upload the original file again."
        )
    return dataclasses.replace(info, frame_count=frames, duration=frames / info.fps)


class _StderrDrain:
    """Reads a child's stderr in a thread so ffmpeg never blocks on a full pipe; keeps the tail."""

    def __init__(self, stream: object, keep: int = 256) -> None:
        self._stream = stream
        self._lines: collections.deque[bytes] = collections.deque(maxlen=keep)
        self._thread = threading.Thread(target=self._run, name="ffmpeg-stderr", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for line in iter(self._stream.readline, b""):  # type: ignore[attr-defined]
            self._lines.append(line)

    def text(self) -> str:
        self._thread.join(timeout=5)
        return b"".join(self._lines).decode("utf-8", errors="replace")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


class FrameReader:
    """Iterates BGR frames from ffmpeg's stdout, read straight into a ring of preallocated arrays.

    A yielded frame stays valid until `ring` further frames have been read: a consumer that keeps
    frames longer (or queues more than `ring - 2`) must copy them.
    """

    def __init__(self, path: Path | str, info: VideoInfo, ring: int = 12) -> None:
        self.path = Path(path)
        self.info = info
        self.argv = decode_argv(path, info)
        self._ring = [np.empty((info.height, info.width, 3), np.uint8) for _ in range(max(ring, 1))]
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: _StderrDrain | None = None

    def __enter__(self) -> FrameReader:
        self._proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
        )
        self._stderr = _StderrDrain(self._proc.stderr)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            _stop(self._proc)
            if self._proc.stdout:
                self._proc.stdout.close()
            if self._stderr:
                self._stderr.text()
            if self._proc.stderr:
                self._proc.stderr.close()

    def _fill(self, view: memoryview) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = typing.cast(io.RawIOBase, self._proc.stdout)
        got = 0
        while got < len(view):
            n = stdout.readinto(view[got:])
            if not n:
                break
            got += n
        return got

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._proc is None:
            self.__enter__()
        assert self._proc is not None and self._stderr is not None
        index = 0
        while True:
            frame = self._ring[index % len(self._ring)]
            got = self._fill(frame.data.cast("B"))
            if got == 0:
                break
            if got < frame.nbytes:
                _stop(self._proc)
                raise FFmpegError(self.argv, -1, f"partial frame {index}\n{self._stderr.text()}")
            yield frame
            index += 1
        code = self._proc.wait()
        if code != 0 or index != self.info.frame_count:
            raise FFmpegError(
                self.argv, code, f"read {index} of {self.info.frame_count} frames\n{self._stderr.text()}"
            )


def encode_argv(
    out_path: Path | str,
    info: VideoInfo,
    audio_source: Path | str | None,
    metadata: Mapping[str, str] | None,
) -> list[str]:
    argv = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{info.width}x{info.height}",
        "-framerate", info.fps_text, "-i", "pipe:0",
    ]
    if audio_source is not None:
        argv += ["-i", str(audio_source)]
    argv += ["-map", "0:v:0"]
    if audio_source is not None:
        argv += ["-map", "1:a:0?"]
    argv += [
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-r", info.fps_text,
    ]
    if audio_source is not None:
        # The template's sound may run past its last picture; the output keeps the video's length.
        argv += ["-c:a", "aac", "-b:a", "128k", "-t", f"{info.duration:.6f}"]
    argv += ["-map_metadata", "-1", "-movflags", "+faststart+use_metadata_tags"]
    for key, value in (metadata or {}).items():
        argv += ["-metadata", f"{key}={value}"]
    argv += ["-f", "mp4", str(out_path)]
    return argv


class FrameWriter:
    """Pipes BGR frames into libx264 (+ the template's audio) at exactly `out_path`.

    On an exception inside the `with` block ffmpeg is killed and the partial file removed, so a
    failed or cancelled render never leaves something that looks like a result.
    """

    def __init__(
        self,
        out_path: Path | str,
        info: VideoInfo,
        audio_source: Path | str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.out_path = Path(out_path)
        self.info = info
        self.argv = encode_argv(out_path, info, audio_source, metadata)
        self.frames = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: _StderrDrain | None = None

    def __enter__(self) -> FrameWriter:
        self._proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0
        )
        self._stderr = _StderrDrain(self._proc.stderr)
        return self

    def write(self, frame: np.ndarray) -> None:
        assert self._proc is not None and self._proc.stdin is not None and self._stderr is not None
        if frame.shape != (self.info.height, self.info.width, 3) or frame.dtype != np.uint8:
            raise EngineError(f"frame {frame.shape} {frame.dtype} does not match the writer's "
                              f"{self.info.height}x{self.info.width}x3 uint8")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data.cast("B"))
        except (BrokenPipeError, ValueError) as exc:
            code = self._proc.wait()
            raise FFmpegError(self.argv, code, self._stderr.text()) from exc
        self.frames += 1

    def abort(self) -> None:
        if self._proc is not None:
            _stop(self._proc)
            if self._stderr:
                self._stderr.text()
            self._close_pipes()
        self.out_path.unlink(missing_ok=True)

    def _close_pipes(self) -> None:
        assert self._proc is not None
        for pipe in (self._proc.stdin, self._proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
            return
        assert self._proc is not None and self._proc.stdin is not None and self._stderr is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        code = self._proc.wait()
        stderr = self._stderr.text()
        self._close_pipes()
        if code != 0:
            self.out_path.unlink(missing_ok=True)
            raise FFmpegError(self.argv, code, stderr)


def encode_jpeg(frame: np.ndarray, path: Path | str, quality: int = 88) -> None:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise EngineError(f"JPEG encoding failed for a {frame.shape} frame")
    Path(path).write_bytes(data.tobytes())

