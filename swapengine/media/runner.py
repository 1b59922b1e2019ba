"""The one place the engine starts ffmpeg: `run` for a command that ends, `Pipe` for a stream.

Always an argv list (never a shell), stdin closed unless it carries data, and on failure an
`FFmpegError` holding the tail of ffmpeg's stderr, its only diagnosis.
"""

from __future__ import annotations

import collections
import dataclasses
import subprocess
import threading
from collections.abc import Sequence
from typing import IO

from swapengine.errors import FFmpegError


@dataclasses.dataclass(frozen=True)
class Finished:
    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: str

    def error(self) -> FFmpegError:
        return FFmpegError(self.argv, self.returncode, self.stderr)


def run(argv: Sequence[str], *, input: bytes | None = None, timeout: float = 600, check: bool = True) -> Finished:
    """Run to completion with stdout and stderr captured; `input` is fed on stdin (else stdin is closed).

    check=False hands a failure back to the caller, for those that turn some of them into a BadInput.
    """
    if input is None:
        proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    else:
        proc = subprocess.run(list(argv), input=input, capture_output=True, timeout=timeout)
    done = Finished(list(argv), proc.returncode, proc.stdout, proc.stderr.decode("utf-8", errors="replace"))
    if check and done.returncode != 0:
        raise done.error()
    return done


class _StderrDrain:
    """Reads a child's stderr in a thread so ffmpeg never blocks on a full pipe; keeps the tail."""

    def __init__(self, stream: IO[bytes], keep: int = 256) -> None:
        self._stream = stream
        self._lines: collections.deque[bytes] = collections.deque(maxlen=keep)
        self._thread = threading.Thread(target=self._run, name="ffmpeg-stderr", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for line in iter(self._stream.readline, b""):
            self._lines.append(line)

    def text(self) -> str:
        self._thread.join(timeout=5)
        return b"".join(self._lines).decode("utf-8", errors="replace")


class Pipe:
    """A running ffmpeg streaming raw data: `writes` True feeds its stdin, else its stdout is read.

    Unbuffered (bufsize 0) so frames are read straight into caller-owned arrays.
    """

    def __init__(self, argv: Sequence[str], *, writes: bool) -> None:
        self.argv = list(argv)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if writes else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if writes else subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        assert self.proc.stderr is not None
        self._stderr = _StderrDrain(self.proc.stderr)

    @property
    def stdin(self) -> IO[bytes] | None:
        return self.proc.stdin

    @property
    def stdout(self) -> IO[bytes] | None:
        return self.proc.stdout

    def stderr_text(self) -> str:
        return self._stderr.text()

    def wait(self) -> int:
        return self.proc.wait()

    def stop(self) -> None:
        """Kill it if it still runs, and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def error(self, returncode: int, note: str = "") -> FFmpegError:
        return FFmpegError(self.argv, returncode, note + self._stderr.text())
