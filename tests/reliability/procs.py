"""Processes the reliability tests and the load test drive (Celery workers, Redis, daphne). No Django here."""

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


def worker_argv(name: str, python: str = sys.executable) -> list[str]:
    """A Celery worker as the services-mode tests start it; compose.yaml's `worker` runs the same (tested)."""
    return [python, "-m", "celery", "-A", "adstudio", "worker", "-Q", "renders,analysis", "-c", "1",
            "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]


def web_argv(host: str, port: int, python: str = sys.executable) -> list[str]:
    """daphne serving the app, as the tests start it; compose.yaml's `web` runs the same (tested)."""
    return [python, "-m", "daphne", "-b", host, "-p", str(port), "adstudio.asgi:application"]


def start_worker(name: str, env: dict[str, str], log_dir: Path, **popen: Any) -> Proc:
    return Proc(worker_argv(name), env, log_dir / f"{name}.log", b"ready.", **popen)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
