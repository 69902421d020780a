"""leadpact settings: everything is read from the environment (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LEADPACT_VAR_DIR", str(BASE_DIR / "var")) or "var")
DATASETS_DIR = Path(
    env_str("LEADPACT_DATASETS", str(BASE_DIR.parent / "shared" / "datasets")) or ""
)

DEBUG = env_bool("LEADPACT_DEBUG", False)
SECRET_KEY = env_str("LEADPACT_SECRET_KEY")
_secret_file = Path(env_str("LEADPACT_SECRET_KEY_FILE", str(VAR_DIR / "secret_key")) or "")
if not SECRET_KEY and _secret_file.is_file():
    SECRET_KEY = _secret_file.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "LEADPACT_SECRET_KEY is not set. Set it to a long random string, or name a file "
            "holding one in LEADPACT_SECRET_KEY_FILE (`make run` writes var/secret_key), "
            "or set LEADPACT_DEBUG=1 for development."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("LEADPACT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("LEADPACT_CSRF_TRUSTED_ORIGINS", [])
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("LEADPACT_BEHIND_TLS_PROXY") else None
)
SESSION_COOKIE_SECURE = env_bool("LEADPACT_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The pipeline review's covering index (``DealEvent`` ``dealevent_entry``) lists extra columns
# that PostgreSQL stores in the index; SQLite keeps the index on its key only, as intended.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "leadpact.common",
    "leadpact.accounts",
    "leadpact.campaigns",
    "leadpact.leads",
    "leadpact.scoring",
    "leadpact.demo",
    "leadpact.routing",
    "leadpact.notifications",
    "leadpact.pipeline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadpact.common.context_processors.navigation",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except Exception as exc:  # dj_database_url raises plain ValueError/KeyError on bad input
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    _db_file = env_str("LEADPACT_DB", str(VAR_DIR / "leadpact.sqlite3")) or ""
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _db_file,
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "leads:list"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env_bool("LEADPACT_FAST_PASSWORD_HASHER"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- cache, jobs ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "leadpact"}
    )
}
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Optionally two queues, so that a lead waiting to be routed never waits behind a long job:
# with LEADPACT_BACKGROUND_QUEUE=background the default queue (``celery``) takes routing, the
# SLA sweep and other quick jobs, and the background queue duplicate scans, imports, rescore
# runs and the pipeline's periodic reports; run a worker for each (`celery -A config worker
# -Q celery` and `… -Q background`). Unset (the default): every job on the default queue, so
# a single plain worker runs everything.
LEADPACT_BACKGROUND_QUEUE = env_str("LEADPACT_BACKGROUND_QUEUE", "") or ""
LEADPACT_BACKGROUND_TASKS = frozenset(
    {
        "leads.duplicates_scan",
        "leads.duplicates_scan_pending",
        "leads.import_job_run",
        "leadpact.scoring.rescore_run",
        "leadpact.scoring.rescore",
        "leadpact.scoring.fit_run",
        "leadpact.pipeline.next_step_reminders",
        "leadpact.pipeline.forecast_snapshots",
        "leadpact.pipeline.review_flows_refresh",
    }
)
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# Periodic work under Celery beat (`celery -A config beat`); without a broker run
# `leadpact sla_sweep --loop`, which calls the same task.
CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {"task": "leadpact.routing.sla_sweep", "schedule": 60.0},
    "scoring-rescore": {"task": "leadpact.scoring.rescore", "schedule": 3600.0},
    "scoring-go-live-due": {"task": "leadpact.scoring.go_live_due", "schedule": 60.0},
    "next-step-reminders": {"task": "leadpact.pipeline.next_step_reminders", "schedule": 300.0},
    # Daily; the first run of each week stores that week's forecast snapshots (idempotent).
    "forecast-snapshots": {"task": "leadpact.pipeline.forecast_snapshots", "schedule": 86400.0},
    # Refresh-ahead of the pipeline review's stage-flow figures (cached for 600 s).
    "review-flows-refresh": {"task": "leadpact.pipeline.review_flows_refresh", "schedule": 240.0},
    # a safety net: a capture queues its own scan; this catches one lost to a crash
    "duplicates-pending": {"task": "leads.duplicates_scan_pending", "schedule": 300.0},
}
# How background jobs run without a broker: "thread" (in-process pool, the default for a
# server) or "sync" (run at once in the caller: tests, CLI).
LEADPACT_JOBS = env_choice("LEADPACT_JOBS", ("thread", "sync"), "thread")
LEADPACT_JOB_THREADS = env_int("LEADPACT_JOB_THREADS", 2, minimum=1)

# --- internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("LEADPACT_TIME_ZONE", "UTC") or "UTC"
USE_I18N = True
USE_TZ = True
LEADPACT_DEFAULT_PHONE_REGION = (env_str("LEADPACT_DEFAULT_PHONE_REGION", "US") or "US").upper()

# --- static and uploaded files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LEADPACT_MAX_REQUEST_BYTES", 5 * 1024 * 1024, minimum=1024)
LEADPACT_IMPORT_MAX_BYTES = env_int("LEADPACT_IMPORT_MAX_BYTES", 512 * 1024 * 1024, minimum=1)

# --- e-mail --------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("LEADPACT_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("LEADPACT_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("LEADPACT_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("LEADPACT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("LEADPACT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LEADPACT_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("LEADPACT_FROM_EMAIL", "leadpact@localhost")

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leadpact.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leadpact.common.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "form_capture": env_str("LEADPACT_FORM_RATE", "30/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "NUM_PROXIES": env_int("LEADPACT_NUM_PROXIES", 0, minimum=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "leadpact API",
    "DESCRIPTION": "Capture, dedupe, score and hand off leads between marketing and sales.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TouchKindEnum": "leadpact.campaigns.models.TouchKind",
        "TimelineEventKindEnum": "leadpact.leads.models.TimelineEvent.Kind",
    },
}

# --- CORS: only the public form endpoint is open to other origins ---------------------------
CORS_URLS_REGEX = r"^/f/.*$"
CORS_ALLOWED_ORIGINS = env_list("LEADPACT_FORM_CORS_ORIGINS", [])
CORS_ALLOW_ALL_ORIGINS = env_bool("LEADPACT_FORM_CORS_ALLOW_ALL", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LEADPACT_LOG_LEVEL", "WARNING")},
}
