"""Organisations (brands, agencies) and their API keys. A key is shown once; only its SHA-256 is stored
(a key is 256 random bits, so a fast hash is enough: there is nothing to brute-force)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

KEY_PREFIX = "ads_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def live(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)

    def find(self, key: str) -> ApiKey | None:
        """The live key with this secret, or None (looked up by its hash, never by the secret)."""
        if not key.startswith(KEY_PREFIX):
            return None
        return self.live().select_related("organisation").filter(hashed=hash_key(key)).first()


class ApiKey(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, db_index=True, help_text="The key's first characters, to tell keys apart.")
    hashed = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the key.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}... ({self.organisation})"

    @classmethod
    def issue(cls, organisation: Organisation) -> tuple[ApiKey, str]:
        """A new key for this organisation: the row and the secret, which is never stored."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        return cls.objects.create(organisation=organisation, prefix=secret[:12], hashed=hash_key(secret)), secret

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
