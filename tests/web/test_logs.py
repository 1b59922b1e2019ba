"""Log lines a collector can parse (LOG_FORMAT), and Sentry only when SENTRY_DSN is set."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from adstudio.logs import JsonFormatter, PlainFormatter
from tests.web.cli import ROOT


def record(**extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "adstudio.renders.jobs", "levelname": "INFO", "levelno": 20,
                                  "msg": "render.stage %s", "args": ("swap",), **extra})
    return made


def test_json_lines_carry_the_events_facts_on_one_line() -> None:
    line = JsonFormatter().format(record(render_id="abc", stage="swap", duration=1.25, outcome="done"))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "render.stage swap" and parsed["level"] == "INFO"
    assert (parsed["render_id"], parsed["stage"], parsed["duration"], parsed["outcome"]) == ("abc", "swap", 1.25,
                                                                                           "done")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        failed = record(exc_info=sys.exc_info())
    parsed = json.loads(JsonFormatter().format(failed))
    assert "ValueError: boom" in parsed["exception"] and "render_id" not in parsed


def test_plain_lines_append_the_facts() -> None:
    text = PlainFormatter().format(record(render_id="abc", outcome="done"))
    assert text.endswith("render.stage swap [render_id=abc outcome=done]")


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**base, "DEBUG": "true", **env})


def shell(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return manage("shell", "-c", code, **env)


def test_sentry_starts_only_with_a_dsn() -> None:
    code = "import sentry_sdk; print('sentry', sentry_sdk.get_client().is_active())"
    assert "sentry False" in shell(code).stdout
    with_dsn = shell(code, SENTRY_DSN="https://public@127.0.0.1:9/1")  # never reached: nothing is sent here
    assert "sentry True" in with_dsn.stdout, with_dsn.stderr[-2000:]


def test_an_unknown_log_format_stops_start_up() -> None:
    done = manage("check", LOG_FORMAT="xml")
    assert done.returncode != 0 and "LOG_FORMAT must be json or plain" in done.stderr
