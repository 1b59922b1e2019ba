"""The analysis task. Safe to run twice: the template is claimed before any work.

Its registered name is that of the single `ads` app before the split (see adstudio/celery.py's routes).
"""

from __future__ import annotations

from celery import shared_task

from adstudio.catalog import jobs
from adstudio.catalog.models import Template

ANALYSE_TEMPLATE = "adstudio.ads.tasks.analyse_template"


@shared_task(name=ANALYSE_TEMPLATE, acks_late=True, reject_on_worker_lost=True, time_limit=3 * 3600)
def analyse_template(template_pk: int) -> str:
    template = Template.objects.filter(pk=template_pk).first()
    if template is None or not template.claim_analysis():
        return "not claimed"
    template.refresh_from_db()
    return jobs.run_analysis(template).analysis_status
