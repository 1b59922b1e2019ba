"""The two kinds of failure a caller must tell apart: the fan's input, or our machinery."""

from __future__ import annotations

from collections.abc import Sequence


class EngineError(Exception):
    """A technical failure. Its message is for operators, never shown to a fan as is."""


class BadInput(EngineError):
    """The input cannot be used. `user_message` is safe and useful to show the person who sent it."""

    def __init__(self, user_message: str, code: str) -> None:
        super().__init__(f"{code}: {user_message}")
        self.user_message = user_message
        self.code = code


class Cancelled(EngineError):
    """The caller asked the engine to stop (its `should_cancel` returned True)."""


class FFmpegError(EngineError):
    """ffmpeg exited non-zero; the tail of its stderr is kept because it is the only diagnosis."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        tail = stderr.strip()[-2000:]
        super().__init__(f"ffmpeg exited {returncode}: {' '.join(argv[:12])} ...\n{tail}")
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = tail
