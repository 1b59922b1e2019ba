"""The real ASGI server (daphne, embedded mode) on its own SQLite file and media folder, for the browser.

Used by the browser tests' session fixture and by the screenshot and page-weight scripts, so all three
see the same site: a seeded, published demo template and a staff account with a known password.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_USER = "studio-admin"
ADMIN_PASSWORD = "browser-tests-only-4f7c1e"
CHROMIUM = os.environ.get("ADSTUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
# Variables that would switch the server to services mode or to someone else's files.
_DROPPED = ("REDIS_URL", "DATABASE_URL", "EMBEDDED_WORKER", "SQLITE_TEST_PATH", "STATIC_ROOT", "SITE_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A daphne process serving the whole app; `url` has no trailing slash."""

    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def prepare(self) -> None:
        """Migrate, make the staff account, seed the demo template (analysed once, here)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        media = self.workdir / "media"
        self.env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "adstudio.settings",
            "DEBUG": "true",
            "SQLITE_PATH": str(self.workdir / "site.sqlite3"),
            "MEDIA_ROOT": str(media),
            "ENGINE_CACHE_DIR": str(media / "analysis"),
            "RENDER_WORK_DIR": str(media / "work"),
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
            # Every test renders from 127.0.0.1; the rate limits are tested elsewhere.
            "RATE_RENDERS_PER_IP": "1000", "RATE_UPLOADS_PER_IP": "1000",
            "RATE_RENDERS_PER_SESSION": "1000", "RATE_UPLOADS_PER_SESSION": "1000",
        })
        self._manage("migrate", "--noinput")
        users = self._manage("shell", "-c", "from django.contrib.auth.models import User; "
                             f"print(User.objects.filter(username={ADMIN_USER!r}).count())")
        if users.strip().endswith("0"):
            self._manage("createsuperuser", "--noinput", "--username", ADMIN_USER, "--email", "studio@localhost")
        self._manage("seed_demo")

    def _manage(self, *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        return proc.stdout

    def start(self, timeout: float = 60) -> None:
        self.port = self.port or free_port()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "adstudio.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"daphne did not answer on {self.url} within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def chromium_missing() -> str:
    """Why the browser cannot run here, or "" when it can."""
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return ""
