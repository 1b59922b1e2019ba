"""The Celery app. Workers: `celery -A adstudio worker -Q renders,analysis` (with REDIS_URL set)."""

import os

from celery import Celery

from adstudio.heartbeat import connect_heartbeat
from adstudio.renders.recovery import connect_recovery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

app = Celery("adstudio")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The task names predate the split into apps (see adstudio/renders/tasks.py): queued messages keep working.
app.conf.task_routes = {
    "adstudio.ads.tasks.render_ad": {"queue": "renders"},
    "adstudio.ads.tasks.analyse_template": {"queue": "analysis"},
    "adstudio.catalog.tasks.analyse_voice_recording": {"queue": "analysis"},
}
app.autodiscover_tasks()
connect_recovery(app)  # re-enqueue renders a dead worker or a wiped broker lost
connect_heartbeat(app)  # every worker beats into the cache; /readyz reads the last beat
