"""A daphne server started as production starts it: no DEBUG in the environment, only a secret key and where
to keep its files (and BEHIND_PROXY, as behind the compose file's nginx). It never shows a debug page, it
redirects to HTTPS, and its probes answer over plain HTTP.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEBUG_PAGE_MARKS = ("DEBUG = True", "Traceback", "DisallowedHost", "Using the URLconf", "settings.py")


def production_env(work: Path) -> dict[str, str]:
    """Nothing of the test run's own environment (tests/settings.py sets DEBUG there) but the basics."""
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SQLITE_PATH": str(work / "site.sqlite3"),
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(work / "static"),
        "BEHIND_PROXY": "true",
        "READY_MIN_FREE_MB": "1",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    work = tmp_path_factory.mktemp("production")
    env = production_env(work)
    for args in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    port = free_port()
    with (work / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "adstudio.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (work / "server.log").read_text()[-3000:]
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (work / "server.log").read_text()[-3000:]
            time.sleep(0.3)
        yield port, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def get(port: int, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, headers={"Host": "127.0.0.1", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode(errors="replace")
    finally:
        connection.close()


def test_settings_default_to_production(server: tuple[int, dict[str, str]]) -> None:
    code = "from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.LOG_FORMAT)"
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=server[1],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split()[-3:] == ["False", "True", "json"], done.stdout + done.stderr


def test_a_bad_host_gets_no_debug_page(server: tuple[int, dict[str, str]]) -> None:
    status, _, body = get(server[0], "/", Host="evil.example")
    assert status == 400 and not any(mark in body for mark in DEBUG_PAGE_MARKS), body[:2000]


def test_a_missing_page_gets_the_sites_404(server: tuple[int, dict[str, str]]) -> None:
    status, _, body = get(server[0], "/no-such-page/", **{"X-Forwarded-Proto": "https"})
    assert status == 404 and "Nothing here" in body, body[:2000]
    assert not any(mark in body for mark in DEBUG_PAGE_MARKS), body[:2000]


def test_plain_http_is_sent_to_https_but_the_probes_are_not(server: tuple[int, dict[str, str]]) -> None:
    status, headers, _ = get(server[0], "/")
    assert status == 301 and headers["Location"] == "https://127.0.0.1/"
    status, _, body = get(server[0], "/healthz", Host="10.0.0.7:8000")  # a probe names the container
    assert (status, body) == (200, "ok\n")


def test_readyz_is_ready_with_the_embedded_workers_heartbeat(server: tuple[int, dict[str, str]]) -> None:
    port, env = server
    deadline = time.monotonic() + 60
    while (answer := get(port, "/readyz"))[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    status, _, body = answer
    report = json.loads(body)
    assert status == 200 and report["ready"] and report["checks"]["worker"]["ok"], body
    assert env["SECRET_KEY"] not in body and env["MEDIA_ROOT"] not in body
    assert get(port, "/readyz", method="POST")[0] == 405


def test_make_run_opts_in_to_debug() -> None:
    """Development asks for DEBUG itself: every step of `make run` sets it (overridable: DEBUG=false make run)."""
    done = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    steps = [line for line in done.stdout.splitlines() if "manage.py" in line or "daphne" in line]
    assert len(steps) == 4 and all(line.startswith("DEBUG=${DEBUG:-true} ") for line in steps), done.stdout
