"""Settings for the ModelOps portal.

Everything that differs between a laptop and production comes from the environment through ``config.env.Env``;
see ``docs/operations.md`` for the list. With no environment at all the portal runs embedded: SQLite under
``var/`` and a Celery broker on the filesystem, so the worker and beat run for real without any server.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from config.env import Env, database_from_url

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env.bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", None)
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (or set SECRET_KEY_FILE)")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105 - only ever used with DEBUG on  # nosec B105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_celery_beat",
    "core",
    "inventory",
    "governance",
    "audits",
    "monitoring",
    "dashboard",
    "gate",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    # Above WhiteNoise and every view, so static files and error pages carry the policy too.
    "core.security.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Needs the user and the message store: signs out idle and too-old sessions with a message.
    "core.security.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.portal",
                "governance.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env.url(
            "DATABASE_URL",
            f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
            schemes=("sqlite", "postgres", "postgresql"),
        ),
        conn_max_age=env.int("DB_CONN_MAX_AGE", 600, minimum=0),
        prepare_threshold=(
            env.int("DB_PREPARE_THRESHOLD", 5, minimum=0) if env.bool("DB_PREPARED_STATEMENTS", True) else None
        ),
    )
}
# A persistent connection that served a request less than this many seconds ago is not health-checked again
# (core/db_health.py); 0 checks before every request, as CONN_HEALTH_CHECKS alone does.
DB_HEALTH_CHECK_IDLE_SECONDS = env.int("DB_HEALTH_CHECK_IDLE_SECONDS", 1, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a password sign-in during a lockout before any password is checked (core/lockout.py).
    "core.lockout.LockoutBackend",
    "core.authentication.PersonModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", 12, minimum=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (core/lockout.py): this many failed password sign-ins for one username, or from one client
# address, or failed API token authentications from one address, within the window lock that username or address
# out for LOGIN_LOCKOUT_SECONDS.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_ADDRESS_LIMIT = env.int("LOGIN_FAILURE_ADDRESS_LIMIT", 30, minimum=1)
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", 30, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inventory:model-list"
LOGOUT_REDIRECT_URL = "login"

# Object permissions are granted by services only; guardian's anonymous user is not used: anonymous requests
# are refused before any object is looked up.
ANONYMOUS_USER_NAME = None
# History reasons are sentences a reviewer wrote ("owner left the bank"), not 100-character labels.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# WhiteNoise scans STATIC_ROOT at start-up; before the first collectstatic it must at least exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Evaluation data for bias audits: the largest upload accepted, and the only directories a dataset may be
# referenced from (where predictions are logged outside the portal). Empty: references are refused.
EVALUATION_UPLOAD_MAX_BYTES = env.int("EVALUATION_UPLOAD_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
EVALUATION_DATA_ROOTS = [Path(root) for root in env.list("EVALUATION_DATA_ROOTS", [])]
# The http(s) URL prefixes evaluation data may be fetched from, e.g. https://mlops.example.com/predictions/ (a
# URL must continue a prefix at a "/"; redirects must stay under a prefix). Empty: URLs are refused.
EVALUATION_DATA_URL_PREFIXES = env.list("EVALUATION_DATA_URL_PREFIXES", [])
for _prefix in EVALUATION_DATA_URL_PREFIXES:
    if not _prefix.lower().startswith(("http://", "https://")) or not _prefix.split("/")[2]:
        raise ImproperlyConfigured(f"EVALUATION_DATA_URL_PREFIXES: {_prefix!r} is not an http(s) URL with a host")
# Serve static files straight from the finders when debugging, so `collectstatic` is not a demo step.
WHITENOISE_USE_FINDERS = DEBUG
# With DEBUG on, look static files up when they are asked for rather than walking every finder whenever the
# middleware starts: the test runner turns DEBUG off at run time, and each test client starts the middleware anew.
WHITENOISE_AUTOREFRESH = DEBUG

# Texts longer than this are refused with a message rather than stored: a model's purpose is prose, not a dump.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
# Uploads above this size go to a temporary file instead of memory (their limit is EVALUATION_UPLOAD_MAX_BYTES).
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# Security controls: docs/security.md lists each with its setting and its test.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_HTTPONLY = True
# Sessions end after SESSION_IDLE_TIMEOUT_SECONDS without a request and SESSION_ABSOLUTE_TIMEOUT_SECONDS after sign-in
# (core.security.SessionExpiryMiddleware); the cookie itself lasts no longer, and by default not past the browser.
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60, minimum=60)
SESSION_ABSOLUTE_TIMEOUT_SECONDS = env.int("SESSION_ABSOLUTE_TIMEOUT_SECONDS", 10 * 3600, minimum=300)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
# Load balancers probe the health check over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", False) else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (core.security.ContentSecurityPolicyMiddleware): scripts, styles and everything else from
# the portal's own origin only, no 'unsafe-inline'. Violations can be reported to CSP_REPORT_URI.
CONTENT_SECURITY_POLICY: dict[str, str] = {}
CSP_REPORT_URI = env.str("CSP_REPORT_URI", "")
# Redoc (styled-components) adds empty <style> elements and fills them through the CSS object model, which CSP
# does not govern, plus one fixed style block: allowed by their hashes on that page only, still no 'unsafe-inline'
# (tests/core/test_security_browser.py fails if a Redoc upgrade changes them).
CSP_PATH_OVERRIDES: dict[str, dict[str, str]] = {
    "/api/redoc/": {
        "style-src": "'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
        # Its search index runs in a Web Worker it starts from a blob: URL its own (same-origin) script made.
        "worker-src": "'self' blob:",
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PortalPageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.portal_exception_handler",
    # JSON bodies with a nesting limit (core/parsers.py): a hostile body is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "core.api.renderers.PortalJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ModelOps governance portal API",
    "DESCRIPTION": "Model inventory, ownership, risk and lineage. Authenticate with `Authorization: Token <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI would otherwise fetch a validation badge from an outside host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several choice sets share a field name ("kind", "status", "state"); name each enum after its choices.
    "ENUM_NAME_OVERRIDES": {
        "ArtifactKindEnum": "inventory.choices.ArtifactKind",
        "DependencyKindEnum": "inventory.choices.DependencyKind",
        "DeploymentStatusEnum": "inventory.choices.DeploymentStatus",
        "VersionStateEnum": "inventory.choices.VersionState",
        "GateOutcomeEnum": "gate.choices.GateOutcome",
        "GateReasonCodeEnum": "gate.choices.ReasonCode",
        "ExportKindEnum": "reports.choices.ExportKind",
    },
}

# Celery. With REDIS_URL set, Redis is broker and result store (production). Without it, the broker is a
# folder under var/: worker and beat still run as real processes, the laptop just needs no server.
REDIS_URL = env.url("REDIS_URL", None, schemes=("redis", "rediss"))
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL",
    REDIS_URL or "filesystem://",
    schemes=("redis", "rediss", "filesystem", "amqp", "sqla+sqlite"),
)
CELERY_QUEUE_DIR = VAR_DIR / "celery" / "queue"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        # Broadcasts (worker remote control) go to files too; by default kombu would put them in the cwd.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands an unacknowledged message (its worker died mid-task) to another worker only after this many
    # seconds. Keep it above the longest task time limit, or a slow task still running is delivered twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 1800, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_RESULT_EXPIRES = 86_400
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Long work (bias and drift audits, the compliance sweep, report exports) goes to its own "audits" queue, everything
# else (notifications, heartbeats, the MLflow sync) to the default "celery" queue, so a batch of audits never delays
# short tasks when workers are split by queue (`celery worker -Q celery` and `-Q audits`, docs/operations.md). A
# worker started without -Q consumes both queues, as before.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ("celery", "audits")]
CELERY_TASK_ROUTES = {
    "audits.tasks.*": {"queue": "audits"},
    "monitoring.tasks.*": {"queue": "audits"},
    "reports.tasks.*": {"queue": "audits"},
}
HEARTBEAT_SECONDS = env.int("HEARTBEAT_SECONDS", 60, minimum=1)
# The default schedules are rows in django-celery-beat's tables, installed after migrate (core/schedules.py),
# so what Risk Officers change on the schedules page survives a restart of beat.

# MLflow import (docs/mlflow.md): the tracking server `sync_mlflow` reads by default. When set, a default schedule
# runs the sync hourly (core/schedules.py); MLFLOW_TRACKING_TOKEN (or _FILE) is sent as a bearer token if the server
# sits behind authentication.
MLFLOW_TRACKING_URI = env.url("MLFLOW_TRACKING_URI", "", schemes=("http", "https"))
MLFLOW_TRACKING_TOKEN = env.str("MLFLOW_TRACKING_TOKEN", "")

# E-mail: notifications are written to the console unless an SMTP server is configured.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "modelops-portal@localhost")
# Absolute links in e-mails point here.
PORTAL_BASE_URL = env.url("PORTAL_BASE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))

# The deployment gate (docs/deployment-gate.md). Decision tokens are signed with GATE_SIGNING_KEY (a PEM private
# key, EC P-256 or Ed25519; usually given as GATE_SIGNING_KEY_FILE); without it a key is generated once under
# GATE_KEY_DIR. Public keys of earlier keys stay published from GATE_PREVIOUS_PUBLIC_KEYS(_FILE) after a rotation.
GATE_SIGNING_KEY = env.str("GATE_SIGNING_KEY", None)
GATE_PREVIOUS_PUBLIC_KEYS = env.str("GATE_PREVIOUS_PUBLIC_KEYS", None)
GATE_KEY_DIR = Path(env.str("GATE_KEY_DIR", str(VAR_DIR / "keys")))
GATE_TOKEN_TTL_SECONDS = env.int("GATE_TOKEN_TTL_SECONDS", 3600, minimum=60, maximum=7 * 86_400)
# Environments where the gate always allows (its reasons are advisory), e.g. dev; every other one is gated.
GATE_UNGATED_ENVIRONMENTS = env.list("GATE_UNGATED_ENVIRONMENTS", [])
for _environment in GATE_UNGATED_ENVIRONMENTS:
    # The same format as inventory.validators.ENVIRONMENT_PATTERN, so a typo cannot silently gate nothing.
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,49}", _environment):
        raise ImproperlyConfigured(f"GATE_UNGATED_ENVIRONMENTS: {_environment!r} is not an environment name")
# Days the owners get to fix a deployment of a digest that was never approved (the finding's due date).
GATE_UNAPPROVED_DEPLOYMENT_DUE_DAYS = env.int("GATE_UNAPPROVED_DEPLOYMENT_DUE_DAYS", 7, minimum=1, maximum=365)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.middleware.RequestIdLogFilter"},
        # Authorization headers, API tokens, passwords, cookies and URL passwords never reach a log line.
        "redact_secrets": {"()": "core.security.SecretRedactingFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

PORTAL_NAME = env.str("PORTAL_NAME", "ModelOps Portal")
