"""What a template says: dialogue slots, context tables and the phrase bank."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from adstudio.catalog.lines import PLACEHOLDER_NAME, check_line, fill_line, fold
from adstudio.catalog.models.template import Template


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
        db_table = "ads_dialogueslot"  # tables keep the names the `ads` app gave them (migration ads.0003)

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

    class Meta:
        db_table = "ads_contexttable"

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

    class Meta:
        db_table = "ads_phraserecording"

    def __str__(self) -> str:
        return self.text

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.key = fold(self.text)
        super().save(*args, **kwargs)
