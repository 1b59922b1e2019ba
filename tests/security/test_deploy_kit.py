"""The deploy kit (compose.yaml, Dockerfile, deploy/nginx.conf, .env.example) agrees with the code.

Docker cannot run on the test machines, so the compose file's structure is checked here: it parses, it has
every service, and it runs the very commands the services-mode tests start.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.procs import web_argv, worker_argv

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
READ_BY_SETTINGS = re.compile(
    r'(?:env|envbool|envint|envfloat|envlist)\("([A-Z0-9_]+)"|os\.environ(?:\.get)?[\[(]"([A-Z0-9_]+)"'
)


def settings_variables() -> set[str]:
    source = (ROOT / "adstudio" / "settings.py").read_text()
    return {a or b for a, b in READ_BY_SETTINGS.findall(source)}


def listed(name: str) -> str | None:
    """The value .env.example gives `name` (set or commented out), None when it is not listed."""
    found = re.search(rf"^#? ?{name}=(.*)$", ENV_EXAMPLE, re.MULTILINE)
    return found.group(1).strip() if found else None


def test_every_setting_is_in_env_example() -> None:
    names = settings_variables()
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "LOG_FORMAT", "SENTRY_DSN", "READY_MIN_FREE_MB"} <= names
    missing = sorted(name for name in names if listed(name) is None)
    assert not missing, f"add to .env.example (with its default and a line on what it does): {missing}"


def test_env_example_defaults_are_the_settings_defaults(tmp_path: Path) -> None:
    """Numbers shown as defaults are what a production start without them gets."""
    names = sorted(n for n in settings_variables() if re.fullmatch(r"\d+", listed(n) or ""))
    code = ("from django.conf import settings as s; import json; "
            f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))")
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50, "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    values = json.loads(done.stdout.strip().splitlines()[-1])
    wrong = {n: (listed(n), v) for n, v in values.items() if v is not None and float(v) != float(listed(n) or -1)}
    assert len([v for v in values.values() if v is not None]) >= 20 and not wrong, wrong


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (types-PyYAML is; pin PyYAML to run this)")
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_whole_stack(compose: dict) -> None:
    assert {"web", "worker", "beat", "redis", "postgres", "flower", "proxy", "migrate"} <= set(compose["services"])
    web = compose["services"]["web"]
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0" and web["environment"]["BEHIND_PROXY"] == "true"
    assert "postgres:5432" in web["environment"]["DATABASE_URL"] and "/healthz" in " ".join(web["healthcheck"]["test"])
    assert compose["services"]["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_compose_runs_what_the_services_tests_start(compose: dict) -> None:
    services = compose["services"]
    assert services["web"]["command"] == web_argv("0.0.0.0", 8000, python="python")
    assert services["worker"]["command"] == worker_argv("worker", python="python")
    assert services["beat"]["command"][:6] == ["python", "-m", "celery", "-A", "adstudio", "beat"]
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert dockerfile_cmd and json.loads(dockerfile_cmd.group(1)) == services["web"]["command"]


def test_compose_variables_are_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    assert used and all(listed(name) for name in used), used


def test_proxy_forwards_what_django_trusts_and_takes_template_uploads() -> None:
    from adstudio.trust.middleware import SLACK

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web:8000;" in conf and "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf  # the render page's WebSocket
    body = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1)) * 1024 * 1024
    default_template_bytes = int(listed("TEMPLATE_MAX_BYTES") or 0)
    assert body >= default_template_bytes + SLACK
