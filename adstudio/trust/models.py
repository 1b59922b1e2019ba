"""Words no fan may put in a celebrity's mouth, screened in names and every spoken field."""

from __future__ import annotations

from django.db import models


class SensitiveTerm(models.Model):
    """Words no fan may put in a celebrity's mouth (religious, political, competitor brands)."""

    term = models.CharField(max_length=80, unique=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["term"]
        db_table = "ads_sensitiveterm"  # the table the `ads` app created (migration ads.0003)

    def __str__(self) -> str:
        return self.term

    @classmethod
    def terms(cls) -> list[str]:
        return list(cls.objects.values_list("term", flat=True))
