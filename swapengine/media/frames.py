"""Frames in and out of ffmpeg pipes (`FrameReader`, `FrameWriter`), and JPEG stills.

Frames are streamed; no clip is ever held whole in memory.
"""

from __future__ import annotations

import contextlib
import io
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from swapengine.errors import EngineError, FFmpegError
from swapengine.media.argv import decode_argv, encode_argv
from swapengine.media.info import VideoInfo
from swapengine.media.runner import Pipe


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
        self._pipe: Pipe | None = None

    def __enter__(self) -> FrameReader:
        self._pipe = Pipe(self.argv, writes=False)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.stop()
            if self._pipe.stdout:
                self._pipe.stdout.close()
            self._pipe.stderr_text()
            if self._pipe.proc.stderr:
                self._pipe.proc.stderr.close()

    def _fill(self, view: memoryview) -> int:
        assert self._pipe is not None and self._pipe.stdout is not None
        stdout = typing.cast(io.RawIOBase, self._pipe.stdout)
        got = 0
        while got < len(view):
            n = stdout.readinto(view[got:])
            if not n:
                break
            got += n
        return got

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._pipe is None:
            self.__enter__()
        assert self._pipe is not None
        index = 0
        while True:
            frame = self._ring[index % len(self._ring)]
            got = self._fill(frame.data.cast("B"))
            if got == 0:
                break
            if got < frame.nbytes:
                self._pipe.stop()
                raise self._pipe.error(-1, f"partial frame {index}\n")
            yield frame
            index += 1
        code = self._pipe.wait()
        if code != 0 or index != self.info.frame_count:
            raise self._pipe.error(code, f"read {index} of {self.info.frame_count} frames\n")


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
        self._pipe: Pipe | None = None

    def __enter__(self) -> FrameWriter:
        self._pipe = Pipe(self.argv, writes=True)
        return self

    def write(self, frame: np.ndarray) -> None:
        assert self._pipe is not None and self._pipe.stdin is not None
        if frame.shape != (self.info.height, self.info.width, 3) or frame.dtype != np.uint8:
            raise EngineError(f"frame {frame.shape} {frame.dtype} does not match the writer's "
                              f"{self.info.height}x{self.info.width}x3 uint8")
        try:
            self._pipe.stdin.write(np.ascontiguousarray(frame).data.cast("B"))
        except (BrokenPipeError, ValueError) as exc:
            raise self._pipe.error(self._pipe.wait()) from exc
        self.frames += 1

    def abort(self) -> None:
        if self._pipe is not None:
            self._pipe.stop()
            self._pipe.stderr_text()
            self._close_pipes()
        self.out_path.unlink(missing_ok=True)

    def _close_pipes(self) -> None:
        assert self._pipe is not None
        for pipe in (self._pipe.stdin, self._pipe.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
            return
        assert self._pipe is not None and self._pipe.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._pipe.stdin.close()
        code = self._pipe.wait()
        stderr = self._pipe.stderr_text()
        self._close_pipes()
        if code != 0:
            self.out_path.unlink(missing_ok=True)
            raise FFmpegError(self.argv, code, stderr)


def encode_jpeg(frame: np.ndarray, path: Path | str, quality: int = 88) -> None:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise EngineError(f"JPEG encoding failed for a {frame.shape} frame")
    Path(path).write_bytes(data.tobytes())
