"""Processes the reliability tests drive: Celery workers, a private Redis, daphne; and what they check."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import reverse

from adstudio.ads.models import Render, Template

ROOT = Path(__file__).resolve().parents[2]
# Generous per-IP and per-session limits: these tests post many selfies from one address on purpose.
NO_RATE_LIMITS = {
    "RATE_UPLOADS_PER_IP": "100000",
    "RATE_UPLOADS_PER_SESSION": "100000",
    "RATE_RENDERS_PER_IP": "100000",
    "RATE_RENDERS_PER_SESSION": "100000",
}


class Proc:
    """A child process in its own session (so kill -9 reaches its whole tree), logging to a file.

    The log is written by a thread of this process from a pipe, so limits set on the child
    (RLIMIT_FSIZE) apply to what it writes itself, not to its log.
    """

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, ready: bytes, **popen: Any) -> None:
        self.log = log
        self.ready = ready
        log.touch()
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT,
            **popen,
        )
        self._drain = threading.Thread(target=self._copy, name=f"log-{log.stem}", daemon=True)
        self._drain.start()

    def _copy(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("ab", buffering=0) as out:
            while chunk := self.proc.stdout.read1(65536):
                out.write(chunk)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while self.ready not in self.log.read_bytes()[after:]:
            assert self.proc.poll() is None, f"{self.log.name} exited:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"{self.log.name} not ready in {timeout}s:\n{self.text()[-3000:]}"
            time.sleep(0.2)

    def kill9(self) -> None:
        """Like a machine losing power: the main process and its pool children die at once."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # pool children must not outlive the test
            os.killpg(self.proc.pid, signal.SIGKILL)


def start_worker(name: str, env: dict[str, str], log_dir: Path, **popen: Any) -> Proc:
    argv = [sys.executable, "-m", "celery", "-A", "adstudio", "worker", "-Q", "renders,analysis", "-c", "1",
            "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    return Proc(argv, env, log_dir / f"{name}.log", b"ready.", **popen)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def submit(template: Template, selfie: Path, name: str = "Asha") -> tuple[Render, Client]:
    """One fan (a fresh session) posts the form; returns the queued render and the fan's client."""
    client = Client()
    with selfie.open("rb") as fh:
        response = client.post(
            reverse("ads:personalise", args=[template.slug]), {"selfie": fh, "name": name, "consent": "on"}
        )
    assert response.status_code == 302, response.content[:2000]
    return Render.objects.get(public_id=response["Location"].rstrip("/").split("/")[-1]), client


def wait_until_final(pks: list[int], timeout: float) -> list[Render]:
    deadline = time.monotonic() + timeout
    while True:
        renders = list(Render.objects.filter(pk__in=pks).order_by("created_at", "pk"))
        if len(renders) == len(pks) and all(r.is_final for r in renders):
            return renders
        if time.monotonic() > deadline:
            states = [(r.pk, r.state, r.stage, round(r.progress, 2)) for r in renders]
            raise AssertionError(f"not all final after {timeout}s: {states}")
        time.sleep(0.2)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_one_complete_output(render: Render, media: Path) -> None:
    """Exactly the two files a done render owns, both complete: the MP4 plays to its end, the JPEG decodes."""
    import cv2

    from swapengine.media import probe

    folder = media / "renders" / render.public_id.hex
    assert files_under(folder) == ["ad.mp4", "poster.jpg"], files_under(folder)
    assert render.video.name == f"renders/{render.public_id.hex}/ad.mp4"
    info = probe(folder / "ad.mp4")
    assert info.frame_count == render.template.info["frame_count"], info
    assert cv2.imread(str(folder / "poster.jpg")) is not None


def assert_nothing_half_written(render: Render, media: Path) -> None:
    """A failed render leaves no output, no scratch folder and no selfie behind."""
    assert not render.video and not render.poster
    assert files_under(media / "renders") == []
    assert files_under(media / "work") == []
    assert not render.selfie and files_under(media / "selfies") == []
