"""Verify: a real render (through run_render, C2PA-signed with a test certificate when c2pa-python is
installed) is traced back to its render and template after a CRF 30 re-encode and after a 3 s excerpt; the
template itself (made elsewhere) is never claimed; the command's exit codes; the public /verify page."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from adstudio.catalog import jobs as catalog_jobs
from adstudio.catalog.management.commands.add_template import add_template
from adstudio.catalog.models import Template
from adstudio.renders import jobs
from adstudio.renders.models import Render
from adstudio.sharing import verification
from adstudio.trust import provenance
from tests.conftest import run_ffmpeg

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")


@dataclass
class Made:
    render_pk: int
    public_id: str
    slug: str
    video: Path  # the ad as served
    crf30: Path
    trim3s: Path
    template_clip: Path
    signed: bool


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA and an ES256 signing certificate (PEM chain, PKCS#8 key) for C2PA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AdStudio tests")])

    now = datetime.datetime.now(datetime.UTC)
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                           "encipher_only", "decipher_only"), False)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def cert(subject: str, public: ec.EllipticCurvePublicKey, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name("AdStudio test CA"))
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    pem = serialization.Encoding.PEM
    chain = folder / "chain.pem"
    chain.write_bytes(cert("AdStudio test signer", key.public_key(), False).public_bytes(pem)
                      + cert("AdStudio test CA", ca_key.public_key(), True).public_bytes(pem))
    private = folder / "signer.key"
    private.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return private, chain


def c2pa_installed() -> bool:
    try:
        import c2pa  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def made(
    django_db_setup: None, django_db_blocker, talking_clip: Path, astronaut_jpg: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Made]:
    """One real ad, rendered by run_render, kept for the module and removed afterwards."""
    base = tmp_path_factory.mktemp("verify")
    c2pa = {}
    if c2pa_installed():
        key, chain = make_certificate(base)
        c2pa = {"C2PA_SIGNING_KEY": str(key), "C2PA_CERTIFICATE": str(chain)}
    media = base / "media"
    paths = {"MEDIA_ROOT": media, "ENGINE_CACHE_DIR": media / "analysis", "RENDER_WORK_DIR": media / "work"}
    with django_db_blocker.unblock(), override_settings(**paths, **c2pa):
        template = add_template(talking_clip, "Verify me")
        catalog_jobs.run_analysis(template)
        assert template.is_ready, template.analysis_error
        render = Render(template=template, owner_session="t" * 32, name="Asha", consent_at=timezone.now())
        with astronaut_jpg.open("rb") as fh:
            render.selfie.save("selfie.jpg", File(fh), save=False)
        render.save()
        claimed = Render.objects.claim(render.pk, "test")
        assert claimed is not None
        render = jobs.run_render(claimed)
        assert render.state == Render.State.DONE, (render.message, render.error)
        video = base / "ad.mp4"
        shutil.copy(render.video.path, video)
        crf30, trim3s = base / "crf30.mp4", base / "trim3s.mp4"
        run_ffmpeg("-i", str(video), *X264, "-crf", "30", str(crf30))
        run_ffmpeg("-ss", "0.8", "-i", str(video), "-t", "3", *X264, "-crf", "23", str(trim3s))
        clip = base / "template.mp4"
        shutil.copy(template.clip.path, clip)
        yield Made(render.pk, str(render.public_id), template.slug, video, crf30, trim3s, clip, bool(c2pa))
        Render.objects.filter(pk=render.pk).delete()
        Template.objects.filter(pk=template.pk).delete()


@pytest.mark.django_db
@pytest.mark.parametrize("copy", ["crf30", "trim3s"])
def test_a_shared_copy_is_traced_to_its_render(made: Made, copy: str) -> None:
    result = verification.verify_file(getattr(made, copy))
    assert result.found and result.render is not None, result.detection
    assert result.render.pk == made.render_pk and str(result.render.public_id) == made.public_id
    assert result.render.template.slug == made.slug
    assert result.detection.confidence >= 6
    assert "Made here" in result.verdict()


@pytest.mark.django_db
def test_the_template_itself_is_not_claimed(made: Made) -> None:
    result = verification.verify_file(made.template_clip)
    assert not result.found and result.render is None and result.render_pk is None
    assert result.verdict() == "No AdStudio watermark was found in this clip."


@pytest.mark.django_db
def test_a_deleted_render_is_still_recognised(made: Made) -> None:
    Render.objects.filter(pk=made.render_pk).delete()  # rolled back after the test
    result = verification.verify_file(made.crf30)
    assert result.found and result.deleted and result.render_pk == made.render_pk
    assert result.verdict() == f"Made here (render #{made.render_pk}), since deleted."


@pytest.mark.django_db
def test_tags_are_hints_and_the_manifest_is_read_back(made: Made) -> None:
    result = verification.verify_file(made.video)
    assert result.hints.get("adstudio_render") == made.public_id
    if not made.signed:
        pytest.skip("c2pa-python is not installed: no manifest to read")
    m = result.manifest
    assert m is not None and m.signer == "AdStudio test signer"
    assert m.ai_composite and m.ingredients == ["Verify me"]
    assert (m.render_id, m.template_slug) == (made.public_id, made.slug)
    assert "signingCredential.untrusted" in m.problems  # a private test CA is not on any trust list
    assert provenance.read_manifest(made.crf30) is None  # a re-encode drops it; the watermark stays


@pytest.mark.django_db
def test_command_exit_codes(made: Made, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    call_command("verify", str(made.trim3s))
    out = capsys.readouterr().out
    assert made.public_id in out and made.slug in out
    with pytest.raises(CommandError) as no_mark:
        call_command("verify", str(made.template_clip))
    assert no_mark.value.returncode == 1 and "No AdStudio watermark was found" in str(no_mark.value)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    for path in (text, tmp_path / "missing.mp4"):
        with pytest.raises(CommandError) as bad:
            call_command("verify", str(path))
        assert bad.value.returncode == 2


def test_command_as_a_process_exits_1_on_an_unmarked_clip(talking_clip: Path, tmp_path: Path) -> None:
    env = {"SQLITE_PATH": str(tmp_path / "db.sqlite3"), "DJANGO_SETTINGS_MODULE": "adstudio.settings",
           "DEBUG": "true", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    proc = subprocess.run([sys.executable, "manage.py", "verify", str(talking_clip)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "No AdStudio watermark was found in this clip." in proc.stderr


@pytest.mark.django_db
def test_verify_page(made: Made, settings, tmp_path: Path) -> None:
    settings.RENDER_WORK_DIR = tmp_path / "work"
    client = Client()
    page = client.get(reverse("ads:verify"))
    assert page.status_code == 200 and b'type="file"' in page.content

    shared = client.post(reverse("ads:verify"), {"clip": SimpleUploadedFile("x.mp4", made.crf30.read_bytes())})
    assert shared.status_code == 200
    assert b"this clip was made here" in shared.content and made.public_id.encode() in shared.content
    assert made.slug.encode() in shared.content

    plain = client.post(reverse("ads:verify"), {"clip": SimpleUploadedFile("t.mp4", made.template_clip.read_bytes())})
    assert plain.status_code == 200 and b"No AdStudio watermark was found" in plain.content

    fake = client.post(reverse("ads:verify"), {"clip": SimpleUploadedFile("a.mp4", b"<svg onload=alert(1)>")})
    assert fake.status_code == 400 and b"Please upload a video clip" in fake.content

    settings.VERIFY_MAX_BYTES = 1000
    big = client.post(reverse("ads:verify"), {"clip": SimpleUploadedFile("b.mp4", made.crf30.read_bytes())})
    assert big.status_code == 400 and b"too big to check" in big.content
    assert list((tmp_path / "work").iterdir()) == []  # every uploaded clip was deleted


@pytest.mark.django_db
def test_c2pa_off_is_said_and_shown_in_admin(settings, admin_client: Client) -> None:
    settings.C2PA_SIGNING_KEY = settings.C2PA_CERTIFICATE = ""
    status = provenance.c2pa_status()
    assert not status.on and status.reason == "C2PA is off (no signing key configured)"
    page = admin_client.get(reverse("admin:renders_render_changelist"))
    assert page.status_code == 200 and b"C2PA is off (no signing key configured)" in page.content
