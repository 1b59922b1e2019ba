"""Templates (admin-made clips) and Renders (one fan's ad). Behaviour lives here, views stay thin."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from adstudio.ads.slots import PLACEHOLDER_NAME, FanField, check_line, fill_line, fold, line_placeholders

STAGE_WORDS = {
    "queued": "Waiting for a free studio",
    "prepare": "Checking your selfie",
    "swap": "Putting you in the ad",
    "finish": "Adding the finishing touches",
    "done": "Your ad is ready",
}


# A dialogue-only ad has no selfie to check: its first stages make the line instead.
SPOKEN_STAGE_WORDS = {**STAGE_WORDS, "prepare": "Recording your line", "swap": "Putting your words in the ad"}


def new_share_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


class Template(models.Model):
    class Analysis(models.TextChoices):
        PENDING = "pending"
        ANALYSING = "analysing"
        READY = "ready"
        FAILED = "failed"

    class Corner(models.TextChoices):
        TOP_LEFT = "top-left"
        TOP_RIGHT = "top-right"
        BOTTOM_LEFT = "bottom-left"
        BOTTOM_RIGHT = "bottom-right"

    title = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True, blank=True)
    clip = models.FileField(upload_to="templates/")
    poster = models.FileField(upload_to="templates/posters/", blank=True)
    published = models.BooleanField(default=False)
    label_corner = models.CharField(max_length=12, choices=Corner.choices, default=Corner.BOTTOM_RIGHT)

    analysis_status = models.CharField(max_length=10, choices=Analysis.choices, default=Analysis.PENDING)
    analysis_progress = models.FloatField(default=0)
    analysis_message = models.CharField(max_length=300, blank=True)
    analysis_error = models.TextField(blank=True)
    analysis_key = models.CharField(max_length=80, blank=True)
    engine_version = models.CharField(max_length=20, blank=True)
    info = models.JSONField(default=dict, blank=True)  # fps, frame_count, width, height, duration, has_audio
    tracks = models.JSONField(default=list, blank=True)  # the engine's track summaries
    fan_track = models.IntegerField(null=True, blank=True, help_text="The face track the fan replaces.")
    swap_face = models.BooleanField(
        default=True, help_text="Put the fan's face on a person. Off: a dialogue-only ad, no selfie asked."
    )
    dialogue_stem = models.FileField(
        upload_to="templates/stems/", blank=True, help_text="Optional: the clip's dialogue alone (same length)."
    )
    music_stem = models.FileField(
        upload_to="templates/stems/", blank=True, help_text="Optional: music and effects without the dialogue."
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            self.slug = self._unique_slug()
        super().save(*args, **kwargs)

    def _unique_slug(self) -> str:
        base = slugify(self.title)[:100] or "ad"
        slug, n = base, 2
        while Template.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug

    def get_absolute_url(self) -> str:
        return reverse("ads:personalise", args=[self.slug])

    @property
    def is_ready(self) -> bool:
        ready = self.analysis_status == self.Analysis.READY
        return ready and (self.fan_track is not None or not self.swap_face)

    @property
    def duration(self) -> float:
        return float(self.info.get("duration", 0.0))

    def stage_words(self) -> dict[str, str]:
        return STAGE_WORDS if self.swap_face else SPOKEN_STAGE_WORDS

    def track_ids(self) -> list[int]:
        return [int(t["id"]) for t in self.tracks]

    def asks_for(self) -> list[str]:
        """What the fan gives, in words for the catalog: the personalise form's fields."""
        words = ["a selfie"] if self.swap_face else []
        if self.asks_name():
            words.append("your name")
        return words + [f.label.lower() for f in self.fan_fields()]

    def placeholders(self) -> list[str]:
        """The sorted placeholder names the dialogue slots use ("name" is the fan's name)."""
        return sorted({p for slot in self.slots.all() for p in line_placeholders(slot.line)})

    def asks_name(self) -> bool:
        """A face-only ad still asks a name (the share page's title); a dialogue ad only if a line says it."""
        return not self.slots.exists() or "name" in self.placeholders()

    def fan_fields(self) -> list[FanField]:
        """The placeholders the fan fills besides the name; a context-table target becomes its key field."""
        tables = {t.target: t for t in self.context_tables.all()}
        wanted: dict[str, FanField] = {}
        for placeholder in self.placeholders():
            if placeholder == "name":
                continue
            table = tables.get(placeholder)
            if table is None:
                wanted.setdefault(placeholder, FanField(placeholder, None))
            else:
                choices = sorted(table.rows)
                known = wanted.get(table.key_field)
                if known is not None and known.choices is not None:
                    choices = sorted(set(choices) & set(known.choices))
                wanted[table.key_field] = FanField(table.key_field, choices)
        return list(wanted.values())

    def fill(self, name: str, fields: dict[str, str]) -> dict[str, str]:
        """Every placeholder's value: the fan's name and fields, then each context table's lookup."""
        values = {**{k: str(v) for k, v in fields.items()}, "name": name}
        for table in self.context_tables.all():
            key = values.get(table.key_field)
            if key is not None and key in table.rows:
                values[table.target] = str(table.rows[key])
        missing = [p for p in self.placeholders() if not values.get(p)]
        if missing:
            raise ValueError(f"no value for {', '.join(missing)}")
        return values

    def choose_fan_track(self, track_id: int) -> bool:
        """The admin's pick of the face the fan replaces; False if the analysis found no such track."""
        if track_id not in self.track_ids():
            return False
        self.fan_track = track_id
        self.save(update_fields=["fan_track", "updated_at"])
        return True

    def stats(self) -> dict[str, Any]:
        """What the studio shows: renders by outcome, failures by the engine's reason, share-page views."""
        renders = Render.objects.filter(template=self)
        by_state = dict(renders.order_by().values_list("state").annotate(n=Count("pk")))
        failures = list(
            renders.filter(state=Render.State.FAILED).order_by().values("error_code")
            .annotate(count=Count("pk")).order_by("-count", "error_code")
        )
        return {
            "renders": sum(by_state.values()),
            "by_state": by_state,
            "failures": failures,
            "active": by_state.get(Render.State.QUEUED, 0) + by_state.get(Render.State.RUNNING, 0),
            "views": renders.aggregate(total=Sum("views"))["total"] or 0,
            "viewed_ads": renders.filter(views__gt=0).count(),
        }

    def start_test_render(self, session_key: str, selfie_name: str, selfie_bytes: bytes, name: str) -> Render:
        """An admin's trial of this template with a sample selfie: a normal render, owned by their session."""
        from django.core.files.base import ContentFile

        with transaction.atomic():
            render = Render(template=self, owner_session=session_key, name=name, consent_at=timezone.now())
            render.selfie.save(selfie_name, ContentFile(selfie_bytes), save=False)
            try:
                render.save()
            except BaseException:
                render.selfie.delete(save=False)
                raise
            render.enqueue()
        return render

    def request_analysis(self) -> None:
        """Mark for (re-)analysis and enqueue it once the current transaction commits."""
        from adstudio.ads.tasks import analyse_template

        Template.objects.filter(pk=self.pk).update(
            analysis_status=self.Analysis.PENDING, analysis_progress=0, analysis_message="", analysis_error=""
        )
        self.analysis_status = self.Analysis.PENDING
        pk = self.pk
        transaction.on_commit(lambda: analyse_template.delay(pk))

    def claim_analysis(self) -> bool:
        changed = Template.objects.filter(pk=self.pk).exclude(analysis_status=self.Analysis.ANALYSING).update(
            analysis_status=self.Analysis.ANALYSING, analysis_progress=0
        )
        return changed == 1

    def analysis_done(self, key: str, version: str, info: dict, tracks: list[dict], poster: str) -> None:
        self.analysis_status = self.Analysis.READY
        self.analysis_progress = 1.0
        self.analysis_key, self.engine_version = key, version
        self.info, self.tracks = info, tracks
        self.analysis_message = f"{len(tracks)} face track(s) found"
        self.analysis_error = ""
        if self.fan_track not in self.track_ids():
            self.fan_track = tracks[0]["id"] if tracks else None
        if poster:
            self.poster.name = poster
        self.save()

    def analysis_failed(self, message: str, error: str) -> None:
        self.analysis_status = self.Analysis.FAILED
        self.analysis_message = message[:300]
        self.analysis_error = error
        self.save(update_fields=["analysis_status", "analysis_message", "analysis_error", "updated_at"])


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

    def enqueue(self) -> None:
        from adstudio.ads.tasks import render_ad

        pk = self.pk
        transaction.on_commit(lambda: render_ad.delay(pk))

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

    def finish(self, video_name: str, poster_name: str) -> bool:
        return self._end(
            self.State.DONE, STAGE_WORDS["done"], stage="done", progress=1.0, video=video_name, poster=poster_name
        )

    def fail(self, user_message: str, error: str, code: str = "internal") -> bool:
        return self._end(self.State.FAILED, user_message, error, error_code=code[:40])

    def cancel(self) -> bool:
        return self._end(self.State.CANCELLED, "Cancelled")

    def erase_selfie(self) -> None:
        """Fans' faces are kept only while their render runs."""
        if self.selfie:
            self.selfie.delete(save=False)
        Render.objects.filter(pk=self.pk).update(selfie="")
        self.selfie.name = ""

    def delete_outputs(self) -> None:
        for field in (self.video, self.poster):
            if field:
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


class DialogueSlot(models.Model):
    """A span of the clip where the speaker says a line with the fan's words in it."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="slots")
    start = models.FloatField(help_text="Seconds from the start of the clip.")
    end = models.FloatField(help_text="Seconds; the new line is fitted to exactly this span.")
    speaker_track = models.IntegerField(
        null=True, blank=True, help_text="The face track who speaks (empty: the one whose mouth moves most)."
    )
    line = models.CharField(max_length=300, help_text="What is said, with placeholders: 'Happy Diwali, {name}!'")

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.start:.2f}-{self.end:.2f} s: {self.line}"

    def clean(self) -> None:
        check_line(self.line)
        if self.start < 0 or self.end - self.start < 0.2:
            raise ValidationError("A slot starts at 0 s or later and lasts at least 0.2 s.", code="bad_span")
        duration = self.template.duration if self.template_id else 0.0
        if duration and self.end > duration + 0.01:
            raise ValidationError(f"The clip is only {duration:.2f} s long.", code="past_end")

    def text(self, values: dict[str, str]) -> str:
        return fill_line(self.line, values)


class ContextTable(models.Model):
    """A placeholder filled from a table by a field the fan picks: city -> dish (the Zomato case)."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="context_tables")
    key_field = models.CharField(max_length=40, help_text="What the fan picks, e.g. city.")
    target = models.CharField(max_length=40, help_text="The placeholder it fills, e.g. dish.")
    rows = models.JSONField(default=dict, help_text='{"Pune": "misal pav", "Delhi": "chole bhature"}')

    def __str__(self) -> str:
        return f"{self.key_field} -> {self.target}"

    def clean(self) -> None:
        for value in (self.key_field, self.target):
            if not PLACEHOLDER_NAME.fullmatch(value or ""):
                raise ValidationError("Field names use lower-case letters and _ only.", code="bad_name")
        if self.key_field == self.target:
            raise ValidationError("The key field and the target must differ.", code="same")
        if not isinstance(self.rows, dict) or not self.rows or not all(
            isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip() for k, v in self.rows.items()
        ):
            raise ValidationError("Rows must be a non-empty JSON object of text to text.", code="bad_rows")


class PhraseRecordingQuerySet(models.QuerySet["PhraseRecording"]):
    def matching(self, template: Template, text: str) -> PhraseRecording | None:
        """The celebrity's own take of exactly this text: the template's bank first, then the global one."""
        candidates = self.filter(key=fold(text)).filter(Q(template=template) | Q(template__isnull=True))
        return candidates.order_by(F("template").asc(nulls_last=True), "-pk").first()


class PhraseRecording(models.Model):
    """The phrase bank: the celebrity saying a common name or word, used instead of the voice engine."""

    template = models.ForeignKey(
        Template, on_delete=models.CASCADE, null=True, blank=True, related_name="phrases",
        help_text="Empty: available to every template.",
    )
    text = models.CharField(max_length=120)
    key = models.CharField(max_length=120, db_index=True, editable=False)
    audio = models.FileField(upload_to="phrases/")

    objects = PhraseRecordingQuerySet.as_manager()

    def __str__(self) -> str:
        return self.text

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.key = fold(self.text)
        super().save(*args, **kwargs)


class SensitiveTerm(models.Model):
    """Words no fan may put in a celebrity's mouth (religious, political, competitor brands)."""

    term = models.CharField(max_length=80, unique=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term

    @classmethod
    def terms(cls) -> list[str]:
        return list(cls.objects.values_list("term", flat=True))
