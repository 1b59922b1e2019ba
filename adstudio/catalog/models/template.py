"""Template: an admin's clip, analysed once, with the face a fan replaces and its dialogue slots."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from adstudio.catalog.lines import FanField, line_placeholders
from adstudio.catalog.models.voicebank import VoiceBank

STAGE_WORDS = {
    "queued": "Waiting for a free studio",
    "prepare": "Checking your selfie",
    "swap": "Putting you in the ad",
    "finish": "Adding the finishing touches",
    "done": "Your ad is ready",
}


# A dialogue-only ad has no selfie to check: its first stages make the line instead.
SPOKEN_STAGE_WORDS = {**STAGE_WORDS, "prepare": "Recording your line", "swap": "Putting your words in the ad"}


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
    voice_bank = models.ForeignKey(
        VoiceBank, on_delete=models.SET_NULL, null=True, blank=True, related_name="templates",
        help_text="The celebrity's licensed recordings the voice engine may learn their voice from.",
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        db_table = "ads_template"  # the table the `ads` app created (migration ads.0001)

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

    def mark_pending(self) -> None:
        """Ready for (re-)analysis; `adstudio.catalog.services.request_analysis` enqueues it."""
        Template.objects.filter(pk=self.pk).update(
            analysis_status=self.Analysis.PENDING, analysis_progress=0, analysis_message="", analysis_error=""
        )
        self.analysis_status = self.Analysis.PENDING

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


