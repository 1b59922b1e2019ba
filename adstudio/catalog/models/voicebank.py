"""The celebrity's voice bank: minutes of their licensed, clean speech beyond the template clip.

One bank per celebrity, shared by all their templates (Template.voice_bank). Each recording is analysed once
by the engine (`swapengine.assess_voice_recording`, started by adstudio.catalog.services) and keeps its
quality report. Models only record state; they never enqueue work.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

# Keys of the engine's report (swapengine.VoiceBankReport.as_dict): summed over a bank's recordings, and those
# averaged weighted by each recording's seconds of speech.
SUMMED = ("duration_s", "speech_s")
WEIGHTED = ("noise_floor_db", "reverb_s", "clipped_share", "loudness_lufs")
# What the studio asks of a whole bank: the personalised-video platforms ask for 2-30 minutes of a speaker.
BANK_SPEECH_S = 120.0
BANK_COVERAGE = 0.9
ANALYSIS_TIME_LIMIT = 3600  # seconds; the task's hard limit (adstudio.catalog.tasks)


class VoiceBank(models.Model):
    """A celebrity's licensed recordings, with the licence that allows using them to make new lines."""

    celebrity = models.CharField(max_length=120, help_text="Whose voice this is, as the campaign names them.")
    licence = models.TextField(
        help_text="Who granted the use of these recordings, for what, and the contract's reference."
    )
    licensed_until = models.DateField(null=True, blank=True, help_text="Empty: no end date in the licence.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["celebrity", "pk"]

    def __str__(self) -> str:
        return self.celebrity

    def get_absolute_url(self) -> str:
        return reverse("ads:voice_bank", args=[self.pk])

    @property
    def licence_expired(self) -> bool:
        return self.licensed_until is not None and self.licensed_until < timezone.localdate()

    def analysed(self) -> models.QuerySet[VoiceRecording]:
        return self.recordings.filter(state=VoiceRecording.State.DONE).order_by("pk")

    def usable(self) -> list[VoiceRecording]:
        """Analysed recordings the engine's report calls usable (enough speech, not badly clipped or noisy)."""
        return [r for r in self.analysed() if r.audio and r.report.get("usable") is True]

    def recording_paths(self) -> tuple[Path, ...]:
        """What a render gives the engine as `voice_bank`: the usable recordings' files, oldest first; none
        once the licence has ended."""
        if self.licence_expired:
            return ()
        return tuple(Path(r.audio.path) for r in self.usable())

    def totals(self) -> dict[str, Any]:
        """The whole bank's report: summed times, speech-weighted noise, reverb, clipping and loudness, the
        share of speech sounds any usable recording covers, and what the bank as a whole still lacks."""
        usable = self.usable()
        reports = [r.report for r in usable]
        total: dict[str, Any] = {"recordings": len(reports), "unusable": self.analysed().count() - len(usable)}
        for key in SUMMED:
            total[key] = round(sum(float(rep.get(key) or 0) for rep in reports), 2)
        for key in WEIGHTED:
            pairs = [(float(rep[key]), float(rep.get("speech_s") or 0) or 1e-3)
                     for rep in reports if isinstance(rep.get(key), int | float)]
            total[key] = round(sum(v * w for v, w in pairs) / sum(w for _, w in pairs), 4) if pairs else None
        total["phone_coverage"], total["phones_missing"] = _coverage(reports)
        total["problems"] = _bank_problems(total)
        return total

    def discard(self) -> None:
        """Delete the bank, its recordings' files and rows; templates that used it are unlinked (SET_NULL)."""
        for recording in self.recordings.all():
            recording.discard()
        self.delete()


class VoiceRecording(models.Model):
    """One uploaded recording of the celebrity, and the engine's quality report on it."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    bank = models.ForeignKey(VoiceBank, on_delete=models.CASCADE, related_name="recordings")
    audio = models.FileField(upload_to="voicebanks/")
    original_name = models.CharField(max_length=255, help_text="The file's name on the admin's computer.")
    size = models.BigIntegerField(default=0, help_text="Bytes.")
    duration = models.FloatField(default=0, help_text="Seconds, once analysed.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    message = models.CharField(max_length=300, blank=True, help_text="What the admin reads about a failure.")
    error = models.TextField(blank=True, help_text="The technical error, for a failed analysis.")
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name or str(self.audio.name)

    @property
    def busy(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def stuck(self) -> bool:
        """Running past the task's time limit: its worker died, so the admin may queue it again."""
        limit = timezone.now() - timedelta(seconds=ANALYSIS_TIME_LIMIT)
        return self.state == self.State.RUNNING and self.updated_at < limit

    def problems(self) -> list[str]:
        found = self.report.get("problems") if isinstance(self.report, dict) else None
        return [str(p) for p in found] if isinstance(found, list) else []

    def mark_queued(self) -> None:
        """Ready for (re-)analysis; `adstudio.catalog.services.request_voice_analysis` enqueues it."""
        VoiceRecording.objects.filter(pk=self.pk).update(state=self.State.QUEUED, message="", error="")
        self.state, self.message, self.error = self.State.QUEUED, "", ""

    def claim(self) -> bool:
        """Only a queued recording is analysed, by one worker: a task delivered twice finds it claimed."""
        changed = VoiceRecording.objects.filter(pk=self.pk, state=self.State.QUEUED).update(
            state=self.State.RUNNING, updated_at=timezone.now()
        )
        return changed == 1

    def finished(self, report: dict[str, Any], duration: float) -> bool:
        """Store the report; False when the row was deleted or re-queued meanwhile."""
        changed = VoiceRecording.objects.filter(pk=self.pk, state=self.State.RUNNING).update(
            state=self.State.DONE, report=report, duration=duration, message="", error="",
            updated_at=timezone.now(),
        )
        return changed == 1

    def failed(self, message: str, error: str) -> bool:
        changed = VoiceRecording.objects.filter(pk=self.pk, state=self.State.RUNNING).update(
            state=self.State.FAILED, message=message[:300], error=error, report={}, updated_at=timezone.now()
        )
        return changed == 1

    def discard(self) -> None:
        """Delete the row and its file in storage."""
        if self.audio:
            self.audio.delete(save=False)
        self.delete()


def _coverage(reports: list[dict[str, Any]]) -> tuple[float | None, list[str]]:
    """The speech sounds heard in any recording: those missing from every one are missing from the bank.

    Each report gives its coverage share and its missing phones, which fix the size of the phone set."""
    if not reports:
        return None, []
    missing = set.intersection(*(set(map(str, rep.get("phones_missing") or [])) for rep in reports))
    sizes = [len(rep.get("phones_missing") or []) / (1.0 - float(rep.get("phone_coverage") or 0))
             for rep in reports if float(rep.get("phone_coverage") or 0) < 1.0]
    if not sizes:
        return 1.0, []
    size = max(round(max(sizes)), len(missing), 1)
    return round(1.0 - len(missing) / size, 4), sorted(missing)


def _bank_problems(total: dict[str, Any]) -> list[str]:
    """What the bank as a whole lacks; each recording's own problems are shown beside it."""
    out = []
    if not total["recordings"]:
        out.append("No usable recording yet: the voice is made from the template clip alone.")
    elif total["speech_s"] < BANK_SPEECH_S:
        speech = total["speech_s"]
        said = f"{speech:.0f} s" if speech < 60 else f"{speech / 60:.1f} minutes"
        out.append(f"Only {said} of usable speech: upload {BANK_SPEECH_S / 60:.0f} minutes or more (the more, the "
                   "closer the voice).")
    coverage = total.get("phone_coverage")
    if coverage is not None and coverage < BANK_COVERAGE:
        out.append(f"The recordings cover {coverage:.0%} of English speech sounds (missing: "
                   f"{' '.join(total['phones_missing'])}): add varied sentences, such as a paragraph read aloud.")
    if total["unusable"]:
        out.append(f"{total['unusable']} analysed recording(s) are not usable and are left out (see their problems).")
    return out
