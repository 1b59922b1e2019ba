"""Consent is stored with the render: when, which text version, and a keyed hash of the IP (never the IP)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from adstudio.renders.models import Render
from adstudio.trust.privacy import CONSENT_VERSION, client_ip, hash_ip
from tests.web.factories import make_template
from tests.web.selfies import face_bytes

pytestmark = pytest.mark.django_db


def post(client: Client, slug: str, **fields: object):
    data = {"name": "Asha", "consent": "on", "selfie": SimpleUploadedFile("a.jpg", face_bytes()), **fields}
    return client.post(reverse("ads:personalise", args=[slug]), data)


def test_consent_time_version_and_ip_hash_are_stored(media, settings) -> None:
    template = make_template()
    page = Client(REMOTE_ADDR="203.0.113.77").get(reverse("ads:personalise", args=[template.slug]))
    assert f"Consent text version {CONSENT_VERSION}" in page.content.decode()
    assert post(Client(REMOTE_ADDR="203.0.113.77"), template.slug).status_code == 302
    render = Render.objects.get()
    assert render.consent_at is not None and render.consent_version == CONSENT_VERSION
    expected = hmac.new(settings.SECRET_KEY.encode(), b"ip:203.0.113.77", hashlib.sha256).hexdigest()
    assert render.ip_hash == expected and len(render.ip_hash) == 64
    assert render.ip_hash != hashlib.sha256(b"203.0.113.77").hexdigest()  # salted: no rainbow table
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ads_render")
        assert "203.0.113.77" not in repr(cursor.fetchall())  # the raw IP is nowhere in the row


def test_same_ip_same_hash_other_ip_or_key_differs(settings) -> None:
    assert hash_ip("198.51.100.1") == hash_ip("198.51.100.1") != hash_ip("198.51.100.2")
    first = hash_ip("198.51.100.1")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert hash_ip("198.51.100.1") != first
    assert hash_ip("") == ""


def test_no_consent_no_render(media) -> None:
    template = make_template()
    response = post(Client(REMOTE_ADDR="203.0.113.9"), template.slug, consent="")
    assert response.status_code == 200 and "Please confirm this is your face" in response.content.decode()
    assert Render.objects.count() == 0


def test_forwarded_for_is_trusted_only_behind_our_proxy(rf, settings) -> None:
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.1"  # a client cannot pick its own address
    settings.BEHIND_PROXY = True
    assert client_ip(request) == "198.51.100.4"  # the hop our proxy added, not what the client wrote
