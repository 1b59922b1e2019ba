"""Log lines an operator's collector can read, and Sentry when asked for.

`LOG_FORMAT=json` (the production default) writes one JSON object per line; `plain` writes a line a person
reads. Events about a render pass their facts as `extra` (EVENT_FIELDS), so both formats carry them and a
collector can filter on `render_id` or sum `duration` by `stage` without parsing prose.

Imported by the settings module, so it imports nothing of Django's models or apps.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

# Facts an event may carry (logging's `extra`): which render, which stage, how long, how it ended.
EVENT_FIELDS = ("event", "render_id", "template", "stage", "duration", "outcome", "worker", "code")


def _facts(record: logging.LogRecord) -> dict[str, Any]:
    return {key: getattr(record, key) for key in EVENT_FIELDS if getattr(record, key, None) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback goes into `exception`, escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_facts(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The usual text line, with an event's facts appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's own name
        facts = " ".join(f"{key}={value}" for key, value in _facts(record).items())
        text = super().formatMessage(record)
        return f"{text} [{facts}]" if facts else text


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """Django's LOGGING for LOG_FORMAT `json` or `plain` (anything else stops start-up)."""
    from django.core.exceptions import ImproperlyConfigured

    formatters = {"json": "adstudio.logs.JsonFormatter", "plain": "adstudio.logs.PlainFormatter"}
    if fmt not in formatters:
        raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": {"()": formatters[fmt]}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main"}},
        "root": {"handlers": ["console"], "level": level},
    }


def init_sentry(dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Errors (and, if sampled, traces) to Sentry; the Django and Celery integrations turn on by themselves.

    No personal data: fans' IPs, cookies and form bodies (names, selfies) stay out of the reports.
    """
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        max_request_body_size="never",
    )
