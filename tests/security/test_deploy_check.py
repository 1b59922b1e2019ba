"""`manage.py check --deploy` is clean under production settings, which come only from the environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
        timeout=120,
    )


def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "ads.example.com",
        "SQLITE_PATH": str(tmp_path / "prod.sqlite3"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        **extra,
    }


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    done = manage(production(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout, done.stdout + done.stderr
    assert "WARNING" not in done.stderr and "?: (security" not in done.stdout + done.stderr


def test_production_settings_are_https_only(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_CONTENT_TYPE_NOSNIFF, s.X_FRAME_OPTIONS)"
    )
    done = manage(production(tmp_path), "shell", "-c", code)
    assert done.stdout.strip().splitlines()[-1].split() == ["True"] * 6 + ["DENY"], done.stdout + done.stderr


def test_a_weak_setup_is_reported(tmp_path: Path) -> None:
    """The check really looks: turning HTTPS off through the environment makes it complain."""
    env = production(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0 and "security.W004" in done.stderr + done.stdout and "security.W008" in (
        done.stderr + done.stdout
    )


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = production(tmp_path)
    del env["SECRET_KEY"]
    done = manage(env, "check")
    assert done.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in done.stderr
