"""Settings for the clinic intake service, read from the environment (twelve-factor).

With nothing set, the service runs in debug mode on a SQLite file with Celery tasks executed
eagerly in-process, so `make run` works on a fresh machine. Production sets DEBUG=false,
SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-only-for-local-debug-use")
else:
    # Outside debug a real secret is required: failing at start-up beats signing with a known key.
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "intake",
]

MIDDLEWARE = [
    # First, so that every answer under an audited prefix is recorded, the refusals of the
    # middleware below (413, 400, 403, redirects) included.
    "intake.audit.AuditMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "intake.api.middleware.RequestSizeLimitMiddleware",
    # After the audit: a refused query string is a response like any other, so it is recorded.
    "intake.api.middleware.QueryStringGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "intake.security.AdminContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: locks out repeated failed staff logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff login brute force: 5 failures from one address for one username lock that pair out for
# 15 minutes (OWASP API2); a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Integration brute force at /o/token/ and /o/revoke_token/ (intake/api/oauth.py): this many failed
# client authentications for one client id, or from one address, lock it out for the cool-off
# (429 slow_down with Retry-After); each failure costs a secret hash (~0.35 s of CPU, PBKDF2).
OAUTH_TOKEN_FAILURE_LIMIT = env.int("OAUTH_TOKEN_FAILURE_LIMIT", default=10)
OAUTH_TOKEN_COOLOFF_HOURS = env.float("OAUTH_TOKEN_COOLOFF_HOURS", default=0.25)
if OAUTH_TOKEN_FAILURE_LIMIT < 1 or OAUTH_TOKEN_COOLOFF_HOURS <= 0:
    raise ImproperlyConfigured(
        "OAUTH_TOKEN_FAILURE_LIMIT must be at least 1 and OAUTH_TOKEN_COOLOFF_HOURS above 0 "
        "(defaults: 10 and 0.25)"
    )

ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

ROOT_URLCONF = "clinic_service.urls"
WSGI_APPLICATION = "clinic_service.wsgi.application"

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

# --- Database: DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/clinic), else a SQLite file.
# An empty DATABASE_URL (as in `DATABASE_URL= make …`) means unset, like an empty REDIS_URL.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL that accepts connections and never answers must not hold a request until the
# gunicorn worker is killed: libpq gives up connecting after this (whole seconds, at least 2).
# A `?connect_timeout=` in DATABASE_URL wins.
DATABASE_CONNECT_TIMEOUT_SECONDS = env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=5)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _DATABASE_OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
    _DATABASE_OPTIONS.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Request limits: bodies above this get 413 problem details (see intake.api.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# URL and header limits answered by Django (414/431 problem details). They sit below gunicorn's
# own caps (gunicorn.conf.py: request line 8190 bytes, 200 headers of 16380 bytes each) so that
# gunicorn's HTML error pages are reserved for requests no HTTP client sends by accident.
MAX_URL_LENGTH = 4096
MAX_REQUEST_HEADERS = 100
MAX_HEADER_BYTES = 8190
MAX_JSON_DEPTH = env.int("MAX_JSON_DEPTH", default=32)

# --- Email: console in development; EMAIL_URL (smtp://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="intake@localhost")

# --- Redis: one server is broker, result backend and cache. Every client of it has short socket
# timeouts, because requests call it (rate limits, webhook wake-ups, publishing after commit) and a
# Redis that accepts connections but never answers would otherwise hold them forever (kombu's
# default) or 5 s a call (redis-py's). After a failure, calls from that process to that server
# fail at once for REDIS_RETRY_AFTER_SECONDS (intake.availability): the sweeper has the work.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_CONNECT_TIMEOUT_SECONDS = env.float("REDIS_CONNECT_TIMEOUT_SECONDS", default=1.0)
REDIS_SOCKET_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=1.0)
REDIS_RETRY_AFTER_SECONDS = env.float("REDIS_RETRY_AFTER_SECONDS", default=10.0)
# A whole publish (connect, the channel's PING, the push) gives up after this; socket timeouts
# bound each round trip, this bounds what they cannot (name resolution, several round trips).
BROKER_PUBLISH_DEADLINE_SECONDS = env.float("BROKER_PUBLISH_DEADLINE_SECONDS", default=2.0)

# --- Cache (rate limits, webhook wake-up marks): Redis when configured, so limits hold across web
# workers; web and worker processes must agree on it (a wake-up mark set by one is cleared by the other).
CACHE_KEY_PREFIX = "clinic"


def redis_cache(location: str) -> dict[str, object]:
    """The CACHES entry for a Redis server (also for tests that start their own)."""
    return {
        "BACKEND": "intake.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "OPTIONS": {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
        },
    }


_LOCAL_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
CACHES = {"default": redis_cache(REDIS_URL) if REDIS_URL else _LOCAL_CACHE}

# --- Celery: REDIS_URL set → real broker; unset → tasks run eagerly in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_RESULT_EXPIRES = 3600
# Redis re-delivers an unacknowledged message only after the visibility timeout, which must
# exceed the longest task (CELERY_TASK_TIME_LIMIT) or a running task is handed out twice.
# "max_retries": 0 — publishing gives up at the first refused connection instead of kombu's retry
# loop (about 6 s per message with kombu 5.7): a request must not hang on a broker that is down;
# the outbox row waits for the sweeper. The worker's own reconnect loop is not affected (it
# passes its retry limits explicitly, broker_connection_max_retries).
# socket_timeout: without it kombu waits forever on a Redis that accepts and never answers (its own
# docs say so); the worker's consuming loop does not use it (kombu checks BRPOP itself).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 0,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY = False
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT_SECONDS
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Celery's Django fixup closes the database connection before and after every task unless this is
# set (then every N tasks); clinic_service/celery.py closes it like a request does instead
# (CONN_MAX_AGE, CONN_HEALTH_CHECKS), so a worker does not connect anew for each task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Beat (run `celery -A clinic_service beat`): the outbox sweeper re-sends what a lost message or a
# dead worker left behind; the escalation and digest jobs are idempotent, so overlaps are harmless.
OUTBOX_SWEEP_INTERVAL_SECONDS = env.float("OUTBOX_SWEEP_INTERVAL_SECONDS", default=15.0)
# Events and deliveries are left to their on-commit message for this long before the sweeper steps in.
OUTBOX_REDISPATCH_AFTER_SECONDS = env.float("OUTBOX_REDISPATCH_AFTER_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "intake.outbox.sweep", "schedule": OUTBOX_SWEEP_INTERVAL_SECONDS},
    "flags-escalate-overdue": {"task": "intake.flags.escalate_overdue", "schedule": 60.0},
    "notifications-routine-digest": {
        "task": "intake.notifications.routine_digest",
        "schedule": crontab(hour=env.int("DIGEST_HOUR_UTC", default=7), minute=0),
    },
}

# --- Webhooks (docs/delivery.md). Delays between attempts, in seconds: 9 tries over ~23.6 hours
# (the Standard Webhooks / Svix shape); jitter only shortens a delay, so the total stays under 24 h.
WEBHOOK_RETRY_SCHEDULE = env.list(
    "WEBHOOK_RETRY_SCHEDULE", cast=float, default=[10, 60, 300, 1800, 7200, 18000, 28800, 28800]
)
WEBHOOK_RETRY_JITTER = env.float("WEBHOOK_RETRY_JITTER", default=0.2)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOK_READ_TIMEOUT_SECONDS = env.float("WEBHOOK_READ_TIMEOUT_SECONDS", default=5.0)
# A claimed delivery is left alone this long; a worker that died mid-request loses its claim after it.
WEBHOOK_DELIVERY_LEASE_SECONDS = env.float("WEBHOOK_DELIVERY_LEASE_SECONDS", default=60.0)
# SSRF allow-list (hostnames, IPs or CIDRs) for targets that would otherwise be refused as private.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# Plain http:// targets: for tests and local receivers only, never in production.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
# Where links in coordinator emails point (the staff UI's public address). Mail is sent by workers
# with no request to read an address from, so it must be configured: by default the first named
# host in ALLOWED_HOSTS over https in production; `make run` sets it to its own address.
_NAMED_HOSTS = [host for host in ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
NOTIFICATION_BASE_URL = env.str(
    "NOTIFICATION_BASE_URL",
    default="http://127.0.0.1:8000" if DEBUG or not _NAMED_HOSTS else f"https://{_NAMED_HOSTS[0]}",
)

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["intake.api.permissions.ClinicScopePermission"],
    "DEFAULT_PARSER_CLASSES": ["intake.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSONRenderer, but a lone surrogate in a response cannot turn it into a 500.
        "intake.api.renderers.UnicodeSafeJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "intake.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "intake.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "intake.api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "URL_FORMAT_OVERRIDE": None,  # content negotiation by Accept only; ?format= is not special
    "DEFAULT_THROTTLE_CLASSES": ["intake.api.throttling.ActorRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "client": env.str("THROTTLE_RATE_CLIENT", default="6000/min"),
        "user": env.str("THROTTLE_RATE_USER", default="600/min"),
    },
}

# Canonical base of our FHIR resources (identity, not location: keep it stable across deployments).
FHIR_CANONICAL_BASE = env.str("FHIR_CANONICAL_BASE", default="https://clinic-intake.example/fhir")

API_SCOPES = {
    "patients:read": "Read patients",
    "patients:write": "Create, update and deactivate patients",
    "intakes:read": "Read intakes, scores and stratifications",
    "intakes:write": "Submit and correct intakes",
    "flags:read": "Read referral flags",
    "flags:write": "Change referral flags and manage webhook subscriptions",
}

# django-oauth-toolkit's default models, named so our migrations can depend on them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

OAUTH2_PROVIDER = {
    "SCOPES": API_SCOPES,
    "SCOPES_BACKEND_CLASS": "intake.auth.IntegrationClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "intake.auth.ClinicOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=3600),
    # RFC 9700 (OAuth 2.0 Security BCP): tokens stored only as checksums, no tokens in query
    # strings, no implicit/password grants. We only use client credentials anyway.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic intake and stratification API",
    "DESCRIPTION": (
        "Intake questionnaires for persistent low back pain: validated scores, a care pathway "
        "and referral flags. Integrations authenticate with OAuth 2.0 client credentials at "
        "`/o/token/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_SCOPES": API_SCOPES,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "intake.api.schema.restore_fhir_operation_paths",
    ],
}

# --- Health: /readyz answers within this many seconds whatever hangs, naming the checks that did
# not answer in time (intake/health.py).
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Production hardening: everything `check --deploy` asks for, switched on outside debug.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["intake.api.renderers.UnicodeSafeJSONRenderer"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
