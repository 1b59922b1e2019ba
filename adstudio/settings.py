"""One flat settings module. Dev and prod differ only by environment variables, read by strict helpers."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from adstudio.logs import init_sentry, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envfloat(name: str, default: str) -> float:
    value = os.environ.get(name, default)
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Production is the safe default: DEBUG stays off unless the environment turns it on (`make run` and the
# test suite's tests/settings.py do), so a server started with no settings never shows a debug page.
DEBUG = envbool("DEBUG", "false")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

# The invisible watermark's key (bytes). Default: derived from SECRET_KEY, so it is stable per deployment
# and secret; set WATERMARK_KEY to keep marks verifiable across a SECRET_KEY rotation.
WATERMARK_KEY = (
    os.environ["WATERMARK_KEY"].encode()
    if os.environ.get("WATERMARK_KEY")
    else hmac.new(SECRET_KEY.encode(), b"adstudio-watermark-key", hashlib.sha256).digest()
)
# C2PA signing (content credentials on every rendered MP4): both paths (PEM) or neither; off when unset.
C2PA_SIGNING_KEY = env("C2PA_SIGNING_KEY", "")
C2PA_CERTIFICATE = env("C2PA_CERTIFICATE", "")
if bool(C2PA_SIGNING_KEY) != bool(C2PA_CERTIFICATE):
    raise ImproperlyConfigured("set both C2PA_SIGNING_KEY and C2PA_CERTIFICATE, or neither")
VERIFY_MAX_BYTES = envint("VERIFY_MAX_BYTES", str(80 * 1024 * 1024))  # clips uploaded to /verify

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env("SITE_URL", "")  # absolute base for share links and OG tags; empty = from the request

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",  # the API's docs page uses django-ninja's bundled Swagger UI files (no CDN)
    # Domain apps, lowest layer first (docs/ARCHITECTURE.md, "The web apps"); `ads` keeps the migration history.
    "adstudio.trust",
    "adstudio.orgs",
    "adstudio.catalog",
    "adstudio.renders",
    "adstudio.sharing",
    "adstudio.studio",
    "adstudio.ads",
]

MIDDLEWARE = [
    "adstudio.health.HealthMiddleware",  # /healthz and /readyz, before host checks, redirects and sessions
    "django.middleware.security.SecurityMiddleware",
    "adstudio.trust.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "adstudio.urls"
ASGI_APPLICATION = "adstudio.asgi.application"
WSGI_APPLICATION = "adstudio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Embedded default: SQLite in WAL mode so the in-process worker thread and the web server can both write.
DATABASE_URL = env("DATABASE_URL", "")
SQLITE_PATH = Path(env("SQLITE_PATH", str(BASE_DIR / "var" / "adstudio.sqlite3")))
SQLITE_TEST_PATH = Path(env("SQLITE_TEST_PATH", str(BASE_DIR / "var" / "test-adstudio.sqlite3")))
if DATABASE_URL:
    # Not persistent by default: under daphne every request runs in a thread of its own, and a kept-open
    # connection outlives its thread, so Postgres ran out of connections in the load test (Django's
    # advice for ASGI). A worker may set DB_CONN_MAX_AGE; its tasks run in one long-lived thread.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", "0"), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # A file, not shared-cache memory, so the worker thread and the test share real WAL locking.
            "TEST": {"NAME": str(SQLITE_TEST_PATH)},
        }
    }
    for _path in (SQLITE_PATH, SQLITE_TEST_PATH):
        _path.parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG  # serve from static/ directly in development, no collectstatic needed
# Media (template clips, renders) is served by our own views, which check access and support ranges.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Engine cache: template analyses keyed by content hash and engine version.
ENGINE_CACHE_DIR = Path(env("ENGINE_CACHE_DIR", str(MEDIA_ROOT / "analysis")))
# Job-scoped scratch space; outputs are renamed from here into MEDIA_ROOT, so keep it on the same disk.
RENDER_WORK_DIR = Path(env("RENDER_WORK_DIR", str(MEDIA_ROOT / "work")))

# Limits on what fans and admins upload.
SELFIE_MAX_BYTES = envint("SELFIE_MAX_BYTES", str(15 * 1024 * 1024))
SELFIE_MAX_PIXELS = envint("SELFIE_MAX_PIXELS", str(40_000_000))
TEMPLATE_MAX_BYTES = envint("TEMPLATE_MAX_BYTES", str(500 * 1024 * 1024))
# One voice-bank recording: 30 minutes of 44.1 kHz mono 16-bit WAV is about 160 MB.
VOICE_RECORDING_MAX_BYTES = envint("VOICE_RECORDING_MAX_BYTES", str(200 * 1024 * 1024))
REQUEST_MAX_BYTES = envint("REQUEST_MAX_BYTES", str(100 * 1024 * 1024))  # any other request body
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
NAME_MAX_LENGTH = envint("NAME_MAX_LENGTH", "40")
MAX_ACTIVE_RENDERS_PER_SESSION = envint("MAX_ACTIVE_RENDERS_PER_SESSION", "3")
RENDER_TIME_LIMIT = envint("RENDER_TIME_LIMIT", "1800")  # seconds, hard limit of one render task
RENDER_STALE_AFTER = envint("RENDER_STALE_AFTER", "120")  # a running render silent this long may be reclaimed
PROGRESS_MIN_INTERVAL = float(envint("PROGRESS_MIN_INTERVAL_MS", "400")) / 1000
RENDER_TTL_DAYS = envint("RENDER_TTL_DAYS", "30")  # rendered ads (files and rows) are deleted after this
SELFIE_MAX_HOURS = envint("SELFIE_MAX_HOURS", "24")  # a render still unfinished this long fails, selfie erased
# Bytes of metadata (EXIF, XMP, ICC, text chunks) a photo may carry; selfies are stored without any of it.
IMAGE_METADATA_MAX_BYTES = envint("IMAGE_METADATA_MAX_BYTES", str(1024 * 1024))

# Rate limits, counted in the cache per client IP and per session over RATE_LIMIT_WINDOW seconds.
# Uploads: every selfie post, accepted or not; renders: ads actually queued.
RATE_LIMIT_WINDOW = envint("RATE_LIMIT_WINDOW", "600")
RATE_UPLOADS_PER_IP = envint("RATE_UPLOADS_PER_IP", "60")
RATE_UPLOADS_PER_SESSION = envint("RATE_UPLOADS_PER_SESSION", "20")
RATE_RENDERS_PER_IP = envint("RATE_RENDERS_PER_IP", "30")
RATE_RENDERS_PER_SESSION = envint("RATE_RENDERS_PER_SESSION", "10")
RATE_API_PER_KEY = envint("RATE_API_PER_KEY", "300")  # API requests per key per window (renders count the same)

# Queues: Redis when REDIS_URL is set (separate `celery -A adstudio worker` processes), otherwise an
# in-memory broker served by a worker thread inside the web process.
REDIS_URL = env("REDIS_URL", "")
EMBEDDED_WORKER = envbool("EMBEDDED_WORKER", "false" if REDIS_URL else "true")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CELERY_BROKER_URL = "memory://"
    CHANNEL_LAYERS = {"default": {"BACKEND": "adstudio.layers.ThreadSafeInMemoryChannelLayer"}}
# Shared counters (rate limits) must be shared by every web process: Redis when there is one.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "adstudio"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# `celery -A adstudio beat` runs this in the services mode; the embedded worker runs it on a timer.
# Task names stay those of the single app before the split, so queued messages and beat entries still match.
CELERY_BEAT_SCHEDULE = {
    "expire-renders": {"task": "adstudio.ads.tasks.expire_renders", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "renders"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A render must be redelivered after a crash long before Redis's default hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", "3600")}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Production (DEBUG off) defaults to HTTPS everywhere; each can be turned off by its variable.
_PROD = "false" if DEBUG else "true"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", _PROD)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", _PROD)
BEHIND_PROXY = envbool("BEHIND_PROXY", "false")  # trust X-Forwarded-Proto and the last X-Forwarded-For hop
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600))
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _PROD)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", _PROD)
# Load balancers and orchestrators probe over plain HTTP (adstudio/health.py answers before any redirect).
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Logs: one JSON object a line (LOG_FORMAT=json, the production default) for a log collector, or plain
# lines for a person at a terminal. Render events carry render_id, stage, duration and outcome.
LOG_FORMAT = env("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = logging_config(LOG_FORMAT, env("LOG_LEVEL", "INFO"))
# Errors to Sentry only when a DSN is given; nothing is sent (and sentry-sdk is not started) otherwise.
SENTRY_DSN = env("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = envfloat("SENTRY_TRACES_SAMPLE_RATE", "0")
if SENTRY_DSN:
    init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE)

# /readyz (adstudio/health.py): storage must have this much free space, and a worker must have beaten
# within WORKER_HEARTBEAT_MAX_AGE seconds (workers beat every WORKER_HEARTBEAT_INTERVAL seconds).
READY_MIN_FREE_MB = envint("READY_MIN_FREE_MB", "1024")
WORKER_HEARTBEAT_INTERVAL = envint("WORKER_HEARTBEAT_INTERVAL", "15")
WORKER_HEARTBEAT_MAX_AGE = envint("WORKER_HEARTBEAT_MAX_AGE", "60")
