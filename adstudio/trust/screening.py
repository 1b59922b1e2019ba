"""Screening of what a fan sends: the words a celebrity will say (the engine's rules plus the admin's
sensitive terms) and the selfie (the engine's own face analysis and screen, run before anything is queued)."""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.apps import apps
from django.core.exceptions import ValidationError

from swapengine import BadInput, FaceAnalyzer, analyse_selfie, load_image, screen_name


def screen_spoken(value: str, extra_blocked: list[str]) -> str:
    """The engine's name screening (profanity, scripts, the admin's sensitive terms) as a form error."""
    try:
        return screen_name(value, extra_blocked)
    except BadInput as exc:
        raise ValidationError(exc.user_message, code=exc.code) from None


@dataclass(frozen=True)
class SelfieRefusal:
    """Why a selfie cannot make an ad: the engine's code (for logs and the API) and its one line for the fan."""

    code: str
    message: str


class SelfieScreen:
    """The face analyzer the selfie screen uses: built on first use, once per process (rebuilt after a
    fork), and used by one thread at a time (mediapipe's graphs are not thread-safe). Owned by the trust
    app's config (TrustConfig.selfie_screen), not by this module."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._analyzer: FaceAnalyzer | None = None
        self._pid = 0

    def get(self) -> FaceAnalyzer:
        """Call with the lock held."""
        if self._analyzer is None or self._pid != os.getpid():
            self._analyzer, self._pid = FaceAnalyzer(), os.getpid()
        return self._analyzer


def screen_selfie(path: Path) -> SelfieRefusal | None:
    """The render's own checks on a selfie file, run up front: decoding (load_image) and the selfie
    analysis with its screen (one face, big, lit and sharp enough, uncovered, inside the frame, eyes
    visible, a photo). None when the selfie can be used. The form, the CLI and the API call this one."""
    try:
        image = load_image(path)
        screen: SelfieScreen = apps.get_app_config("trust").selfie_screen  # type: ignore[attr-defined]
        with screen.lock:
            analyse_selfie(image, screen.get())
    except BadInput as exc:
        return SelfieRefusal(exc.code, exc.user_message)
    return None


def screen_selfie_upload(upload: IO[bytes]) -> SelfieRefusal | None:
    """screen_selfie for bytes in hand (an upload): a private temporary file, deleted on return."""
    upload.seek(0)
    with tempfile.NamedTemporaryFile(prefix="selfie-", suffix=".img") as tmp:
        while chunk := upload.read(1 << 20):
            tmp.write(chunk)
        tmp.flush()
        upload.seek(0)
        return screen_selfie(Path(tmp.name))
