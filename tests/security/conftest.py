"""Shared pieces of the security suite: isolated media, a fresh client IP per test, tiny images."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ENGINE_CACHE_DIR = tmp_path / "media" / "analysis"
    settings.RENDER_WORK_DIR = tmp_path / "media" / "work"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    (tmp_path / "media").mkdir()
    return tmp_path / "media"


def random_ip() -> str:
    """Rate limits count per IP in a cache shared by the whole test run: each test gets its own address."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def fan() -> Client:
    return Client(REMOTE_ADDR=random_ip())


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 150, 120)).save(buffer, fmt, **save)
    return buffer.getvalue()
