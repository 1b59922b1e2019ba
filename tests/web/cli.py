"""Running manage.py as an operator does: a subprocess with its own SQLite file and media folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli_environment(base: Path) -> dict[str, str]:
    """An embedded-mode environment under `base`, migrated and ready."""
    env = {
        **os.environ,
        "SQLITE_PATH": str(base / "db.sqlite3"),
        "MEDIA_ROOT": str(base / "media"),
        "DJANGO_SETTINGS_MODULE": "adstudio.settings",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    run(env, "migrate", "--noinput", check=True)
    return env


def run(env: dict[str, str], *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the progress bar and library chatter: what a person reads as the error."""
    return [line for line in proc.stderr.splitlines() if line.startswith("CommandError")]
