"""Render: one fan's ad, a state machine (queued, running, done, failed, cancelled) with progress."""

from __future__ import annotations

import secrets
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import models
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from adstudio.catalog.models import STAGE_WORDS, Template


def new_share_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits

class RenderQuerySet(models.QuerySet["Render"]):
    def active(self) -> RenderQuerySet:
        return self.filter(state__in=[Render.State.QUEUED, Render.State.RUNNING])

    def shared(self) -> RenderQuerySet:
        """What a share link may show: finished and not taken down."""
        return self.filter(state=Render.State.DONE, taken_down_at__isnull=True)

    def expired(self, now: datetime | None = None) -> RenderQuerySet:
        cutoff = (now or timezone.now()) - timedelta(days=settings.RENDER_TTL_DAYS)
        return self.filter(created_at__lt=cutoff)

    def expire(self, now: datetime | None = None) -> int:
        """Delete renders older than RENDER_TTL_DAYS with their files (the Celery beat job and the command)."""
        count = 0
        for render in list(self.expired(now)):
            render.discard()
            count += 1
        return count

    def give_up_abandoned(self, now: datetime | None = None) -> int:
        """Fail renders still unfinished SELFIE_MAX_HOURS after upload, so no selfie outlives that."""
        cutoff = (now or timezone.now()) - timedelta(hours=settings.SELFIE_MAX_HOURS)
        count = 0
        for render in list(self.active().filter(created_at__lt=cutoff)):
            hours = settings.SELFIE_MAX_HOURS
            render.fail("We could not make this ad in time. Please try again.", f"unfinished after {hours} h",
                        "abandoned")
            render.erase_selfie()
            count += 1
        return count

    def stats(self) -> dict[str, Any]:
        """What the studio shows for these renders (one template's): by outcome, failures by the engine's
        reason, share-page views."""
        by_state = dict(self.order_by().values_list("state").annotate(n=Count("pk")))
        failures = list(
            self.filter(state=Render.State.FAILED).order_by().values("error_code")
            .annotate(count=Count("pk")).order_by("-count", "error_code")
        )
        return {
            "renders": sum(by_state.values()),
            "by_state": by_state,
            "failures": failures,
            "active": by_state.get(Render.State.QUEUED, 0) + by_state.get(Render.State.RUNNING, 0),
            "views": self.aggregate(total=Sum("views"))["total"] or 0,
            "viewed_ads": self.filter(views__gt=0).count(),
        }

    def claim(self, pk: int, worker: str) -> Render | None:
        """Take the render for this worker, or return None if someone else has it or it has ended.

        A running render whose heartbeat went silent (its worker died; the broker redelivered the task
        under acks_late) may be taken over; a live one may not, so a duplicate delivery does nothing.
        """
        now = timezone.now()
        stale = now - timedelta(seconds=settings.RENDER_STALE_AFTER)
        claimable = Q(state=Render.State.QUEUED) | Q(state=Render.State.RUNNING, heartbeat_at__lt=stale)
        changed = self.filter(claimable, pk=pk).update(
            state=Render.State.RUNNING,
            stage="prepare",
            message=STAGE_WORDS["prepare"],
            worker=worker[:100],
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
        )
        return self.get(pk=pk) if changed else None


class Render(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINAL_STATES = (State.DONE, State.FAILED, State.CANCELLED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="renders")
    owner_session = models.CharField(max_length=64, db_index=True, blank=True)
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.CASCADE, null=True, blank=True, related_name="renders",
        help_text="The brand or agency that ordered it through the API; empty for a fan's own ad.",
    )
    # db_default too: rows written by older code (the historical `ads` models) omit these columns.
    idempotency_key = models.CharField(
        max_length=200, blank=True, default="", db_default="",
        help_text="The API caller's Idempotency-Key."
    )
    request_hash = models.CharField(
        max_length=64, blank=True, default="", db_default="",
        help_text="SHA-256 of the API request's body."
    )
    name = models.CharField(max_length=80, blank=True)
    fields = models.JSONField(default=dict, blank=True, help_text="The dialogue placeholders' values.")
    selfie = models.FileField(upload_to="selfies/", blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.CharField(max_length=20, blank=True, help_text="The consent text the fan agreed to.")
    ip_hash = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 of the fan's IP with SECRET_KEY; never the IP itself."
    )
    taken_down_at = models.DateTimeField(null=True, blank=True, help_text="Hidden by an admin; files deleted.")

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    stage = models.CharField(max_length=20, default="queued")
    progress = models.FloatField(default=0)
    message = models.CharField(max_length=300, default=STAGE_WORDS["queued"])
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=40, blank=True, help_text="The engine's reason, or 'internal'.")
    notes = models.JSONField(default=list, blank=True,
                             help_text="How the engine made it: per dialogue slot, the voice and what moved the lips.")
    worker = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    video = models.FileField(upload_to="renders/", blank=True)
    poster = models.FileField(upload_to="renders/", blank=True)
    views = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RenderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        db_table = "ads_render"  # the table the `ads` app created (migration ads.0001)
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"], condition=~Q(idempotency_key=""),
                name="render_idempotency_key_once_per_org",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} for {self.name or 'a fan'} ({self.state})"

    @property
    def group_name(self) -> str:
        return f"render_{self.public_id.hex}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    def get_absolute_url(self) -> str:
        return reverse("ads:render", args=[self.public_id])

    def share_url(self) -> str:
        return reverse("ads:share", args=[self.share_token])

    def work_dir(self) -> Path:
        """This attempt's scratch folder; removed, with everything derived from the selfie, when it ends."""
        return Path(settings.RENDER_WORK_DIR) / f"{self.public_id.hex}-{self.attempts}"

    def clear_dead_attempts(self) -> None:
        """A taken-over render's earlier attempts left scratch folders (a half-written MP4) behind; drop them."""
        work = Path(settings.RENDER_WORK_DIR)
        for attempt in range(1, self.attempts):
            shutil.rmtree(work / f"{self.public_id.hex}-{attempt}", ignore_errors=True)

    def preview_path(self) -> Path:
        """The first composed frame, written by the engine while it renders, so the fan sees it early."""
        return self.work_dir() / "preview.jpg"

    def owned_by(self, session_key: str | None) -> bool:
        return bool(session_key) and secrets.compare_digest(self.owner_session, session_key or "")

    def payload(self) -> dict[str, Any]:
        """What the render page and its WebSocket need to draw the true current state."""
        data: dict[str, Any] = {
            "id": str(self.public_id),
            "state": self.state,
            "stage": self.stage,
            "progress": round(self.progress, 4),
            "message": self.message,
        }
        if self.state == self.State.DONE and self.taken_down_at is None:
            data["share_url"] = self.share_url()
            data["video_url"] = reverse("ads:share_video", args=[self.share_token])
            data["poster_url"] = reverse("ads:share_poster", args=[self.share_token])
        elif self.state == self.State.RUNNING and self.preview_path().exists():
            data["preview_url"] = reverse("ads:render_preview", args=[self.public_id])
        return data

    def record_progress(self, stage: str, fraction: float) -> bool:
        """Save progress while the render is still ours to run; False means it was cancelled or deleted."""
        self.stage, self.progress = stage, fraction
        self.message = self.template.stage_words().get(stage, self.message)
        changed = Render.objects.filter(pk=self.pk, state=self.State.RUNNING).update(
            stage=stage, progress=fraction, message=self.message, heartbeat_at=timezone.now()
        )
        return changed == 1

    def _end(self, state: str, message: str, error: str = "", **fields: Any) -> bool:
        """Move a running or queued render to a final state, once. Returns False if it had already ended."""
        now = timezone.now()
        values = {"state": state, "message": message[:300], "error": error, "finished_at": now, **fields}
        changed = Render.objects.filter(pk=self.pk).exclude(state__in=self.FINAL_STATES).update(**values)
        if changed:
            for key, value in values.items():
                setattr(self, key, value)
        return changed == 1

    def finish(self, video_name: str, poster_name: str, notes: list[str] | None = None) -> bool:
        return self._end(
            self.State.DONE, STAGE_WORDS["done"], stage="done", progress=1.0, video=video_name, poster=poster_name,
            notes=list(notes or []),
        )

    def fail(self, user_message: str, error: str, code: str = "internal") -> bool:
        return self._end(self.State.FAILED, user_message, error, error_code=code[:40])

    def cancel(self) -> bool:
        return self._end(self.State.CANCELLED, "Cancelled")

    def save_with_selfie(self, name: str, content: File) -> None:
        """Store the selfie and the row together: a row that fails to save leaves no selfie behind."""
        self.selfie.save(name, content, save=False)
        try:
            self.save()
        except BaseException:
            self.selfie.delete(save=False)
            raise

    def erase_selfie(self) -> None:
        """Fans' faces are kept only while their render runs."""
        if self.selfie:
            self.selfie.delete(save=False)
        Render.objects.filter(pk=self.pk).update(selfie="")
        self.selfie.name = ""

    def delete_outputs(self) -> None:
        for field in (self.video, self.poster):
            if field and field.name:
                field.storage.delete(field.name)

    def take_down(self) -> None:
        """An admin's takedown: hidden with one UPDATE (share views check it), then its files deleted."""
        now = timezone.now()
        Render.objects.filter(pk=self.pk).update(taken_down_at=now)
        if not self.cancel():
            try:
                self.refresh_from_db()  # it may have finished a moment ago; its outputs are now on the row
            except Render.DoesNotExist:
                return
        self.delete_outputs()
        self.erase_selfie()
        Render.objects.filter(pk=self.pk).update(video="", poster="", message="Taken down by the studio.")
        self.video.name = self.poster.name = ""
        self.message = "Taken down by the studio."

    def discard(self) -> None:
        """The fan's (or an admin's) delete: stop it if it runs, then remove its files and the row."""
        if not self.cancel():
            try:
                self.refresh_from_db()  # it may have finished a moment ago; its outputs are now on the row
            except Render.DoesNotExist:
                return  # someone else deleted it first
        self.delete_outputs()
        self.erase_selfie()
        self.delete()


