"""ASGI entry point (daphne). Without REDIS_URL it also starts the embedded worker thread."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")
django.setup()

from django.conf import settings  # noqa: E402

from adstudio.routing import build_application  # noqa: E402

application = build_application()

if settings.EMBEDDED_WORKER:
    from adstudio.celery import app as celery_app
    from adstudio.worker import start_embedded_worker

    start_embedded_worker(celery_app)
