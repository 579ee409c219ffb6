"""fpr settings: one module, every deployment-specific value read from the environment.

Defaults are for the demo: an embedded SQLite database and Celery running tasks in-process, so
`scripts/demo` works on a machine with nothing but Python. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS.
"""

import datetime as dt
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("FPR_TESTING", False)
# Demo mode: demo users exist and their credentials are shown on the login page. Never in production.
DEMO_MODE = env_bool("FPR_DEMO", False)

# Commands that only read the code (never serve a request or sign anything) run in a bare checkout.
_OFFLINE_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "spectacular", "collectstatic"}
_command = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") else ""

SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Sessions, password-reset links and CSRF tokens are signed with it: a short key can be guessed offline.
MIN_SECRET_KEY_LENGTH = 50
_local_run = DEBUG or DEMO_MODE or TESTING or _command in _OFFLINE_COMMANDS
if not SECRET_KEY:
    if _local_run:
        # A throw-away key for local runs only; production must provide its own.
        SECRET_KEY = "insecure-local-only-" + "x" * 40
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set (or DEBUG=1 / FPR_DEMO=1 for local runs).")
elif len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH and not _local_run:
    raise ImproperlyConfigured(
        f"SECRET_KEY 太短（{len(SECRET_KEY)} 个字符），生产环境至少需要 {MIN_SECRET_KEY_LENGTH} 个随机字符。"
        f" / SECRET_KEY is too short ({len(SECRET_KEY)} characters): production needs at least"
        f" {MIN_SECRET_KEY_LENGTH} random characters,"
        " e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # The Django admin, for the system's operators (superusers) only: fpr/admin_site.py.
    "fpr.admin_config.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # API tokens: hashed at rest, expiring, shown once (django-rest-knox; households/accounts.py).
    "knox",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "simple_history",
    "axes",
    "csp",
    "drf_spectacular_sidecar",
    "fpr",
    "households",
    "monitoring",
    "assistance",
    "workflow",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session is read: a NUL in a parameter, form field or cookie is a 400, never a 500.
    "fpr.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fpr.middleware.NoStoreMiddleware",  # signed-in responses: Cache-Control: no-store
    "django.contrib.messages.middleware.MessageMiddleware",
    # An account with an initial password (bulk import) reaches only the password change page.
    "fpr.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fpr.urls"

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
                "fpr.context_processors.navigation",
                "workflow.context_processors.inbox",
            ],
        },
    },
]

WSGI_APPLICATION = "fpr.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "households.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "fpr.passwords.CharacterKindsValidator", "OPTIONS": {"kinds": 3}},
]
# django-axes first: a login attempt against a locked account is refused before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Login throttling, two separate locks (fpr/login_throttle.py): an account is locked after this many failed
# logins from any addresses, and an address after FPR_LOGIN_IP_FAILURE_LIMIT failures over any accounts
# (password spraying), each for the cool-off time. The lockout page says so in Chinese; an administrator
# unlocks an account of their subtree on the 登录锁定 page (accounts:lockouts).
AXES_FAILURE_LIMIT = int(os.environ.get("FPR_LOGIN_FAILURE_LIMIT", "5"))
FPR_LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("FPR_LOGIN_IP_FAILURE_LIMIT", "20"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("FPR_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "fpr.login_throttle.AccountAndAddressHandler"
AXES_RESET_ON_SUCCESS = True
# The client address for the per-address lock. Behind a reverse proxy REMOTE_ADDR is the proxy, so every
# user would share one lock: set FPR_TRUSTED_PROXY_COUNT to the number of proxies in front of the app,
# each appending the address it was connected from to X-Forwarded-For, and the address that many entries
# from the right is used (what a client writes into the header itself is never read).
FPR_TRUSTED_PROXY_COUNT = int(os.environ.get("FPR_TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "fpr.login_throttle.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# API tokens (django-rest-knox): stored as SHA-512 digests, shown once, expire after this many hours.
FPR_TOKEN_TTL_HOURS = int(os.environ.get("FPR_TOKEN_TTL_HOURS", "720"))
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(hours=FPR_TOKEN_TTL_HOURS),
    "TOKEN_LIMIT_PER_USER": 10,
    "AUTO_REFRESH": False,
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (after collectstatic); plain files when run from source.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING or DEMO_MODE
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING or DEMO_MODE
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# --- Security (production values; `manage.py check --deploy` is clean with DEBUG=0 and HTTPS) ---
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 8 * 3600))  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): only this site's own scripts, no inline script, no framing. Inline
# style attributes are allowed (the Django admin uses them); everything is served from here — no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# HTTPS settings apply when the site is served over TLS (behind a proxy that sets the header).
HTTPS = env_bool("HTTPS", not DEBUG and not DEMO_MODE and not TESTING)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
# The health check of docker-compose and the load balancer calls the app itself over plain HTTP inside
# the network, not through the TLS proxy: it must not be redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an API client without credentials gets 401 with a WWW-Authenticate header.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "fpr.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, documenting the error answers (401/403/404/400) of every operation.
    "DEFAULT_SCHEMA_CLASS": "fpr.schema.AutoSchema",
    "EXCEPTION_HANDLER": "fpr.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "fpr 防返贫动态监测和帮扶 API",
    "DESCRIPTION": "防止返贫动态监测和帮扶 case management. Every endpoint is scoped to the caller's division.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs page are for signed-in users only: no map of the API for strangers.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The docs page's Swagger UI from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name ("status", "kind"): name their enums after the models.
    "ENUM_NAME_OVERRIDES": {
        "MeasureStatusEnum": "assistance.models.MeasureStatus",
        "BulkJobStatusEnum": "workflow.models.BulkJobStatus",
        "WarningStatusEnum": "monitoring.models.WarningStatus",
        "RiskColourEnum": "monitoring.models.RiskColour",
        "UploadStatusEnum": "monitoring.models.UploadStatus",
        "ImportKindEnum": "workflow.models.ImportKind",
        "ChannelEnum": "monitoring.models.Channel",
        "ApplicationChannelEnum": "monitoring.models.APPLICATION_CHANNELS",
        "KindEnum": "households.models.IncomeKind",
        "ImportStatusEnum": "workflow.models.ImportStatus",
    },
}

# --- Celery: Redis as broker; without REDIS_URL (the demo) tasks run in-process ---
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process whose resident memory grew past this (KiB) after a task is replaced by a fresh one,
# so one large file's peak is not kept for the process's life.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(os.environ.get("FPR_WORKER_MAX_MEMORY_MB", "1024")) * 1024
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Task outcomes are in the database (upload status, BulkJob, JobRun), never read from the result
# store; ignoring results also spares every .delay() a pub/sub subscription to Redis, which while
# Redis is down retries for 20 s and leaves the web process's result consumer broken.
CELERY_TASK_IGNORE_RESULT = True
# Redis down (issue #7): a request that queues a job gives up within about two seconds instead of
# hanging; what it queued stays QUEUED in the database for the scheduled job (comparison_pending).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    # A task taken by a worker that was killed (kill -9, lost machine) is unacknowledged (acks_late):
    # Redis hands it out again after this many seconds. Longer than the longest run (a million-row
    # comparison takes under a minute) and the largest retry backoff (retry_backoff_max, 600 s); a task
    # handed out twice anyway is harmless — comparison_run locks the upload, bulk jobs are claimed once.
    "visibility_timeout": int(os.environ.get("FPR_BROKER_VISIBILITY_TIMEOUT", "1800")),
}

# Cache: progress of running comparisons and exports, shared by web and worker processes through Redis.
# The key prefix is the database name, so test runs on separate databases never read each other's keys.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Short timeouts: while Redis is down a progress read fails fast (and is ignored) instead of hanging.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
CACHES["default"]["KEY_PREFIX"] = f"fpr:{DATABASES['default'].get('NAME')}"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Business configuration (documented in the README) ---
FPR_MAX_ATTACHMENT_MB = int(os.environ.get("FPR_MAX_ATTACHMENT_MB", "10"))
# 民主评议: at least this many participants, and more than this share of them voting for.
FPR_APPRAISAL_QUORUM = int(os.environ.get("FPR_APPRAISAL_QUORUM", "5"))
FPR_APPRAISAL_MAJORITY = float(os.environ.get("FPR_APPRAISAL_MAJORITY", "0.5"))
# Bulk actions on more cases than this run as a background task with progress.
FPR_BULK_INLINE_LIMIT = int(os.environ.get("FPR_BULK_INLINE_LIMIT", "100"))
# The most cases one bulk request may name (page and API; 400 beyond). At the measured ~110 cases/s
# (bench/bulk.py) 5,000 cases hold one worker under a minute; a township rarely has more than a few
# thousand waiting, and a county's larger queue is sent in parts.
FPR_BULK_MAX_CASES = int(os.environ.get("FPR_BULK_MAX_CASES", "5000"))
# Export files (which hold personal data) are deleted this many days after the export; the log row stays.
FPR_EXPORT_KEEP_DAYS = int(os.environ.get("FPR_EXPORT_KEEP_DAYS", "7"))
# 风险消除 ("七个不消"): a measure must have run this many months before its effect counts.
FPR_MEASURE_EFFECT_MONTHS = int(os.environ.get("FPR_MEASURE_EFFECT_MONTHS", "3"))
# Advice: a single-risk household with more measures than this is flagged (福利陷阱).
FPR_WELFARE_TRAP_MEASURES = int(os.environ.get("FPR_WELFARE_TRAP_MEASURES", "4"))
# Classification: rigid expenditure above this share of net income counts as large (刚性支出较大).
FPR_LARGE_EXPENDITURE_SHARE = float(os.environ.get("FPR_LARGE_EXPENDITURE_SHARE", "0.5"))
# Departmental comparison (SPEC §5): upload size limit, and the largest XLSX content we unpack.
FPR_MAX_DEPARTMENT_UPLOAD_MB = int(os.environ.get("FPR_MAX_DEPARTMENT_UPLOAD_MB", "200"))
FPR_MAX_XLSX_UNPACKED_MB = int(os.environ.get("FPR_MAX_XLSX_UNPACKED_MB", "1024"))
# Each part of an XLSX (a sheet, the shared strings …) unpacked, read from the zip directory before the
# workbook is opened. The shared strings are held in memory by the reader (~8 bytes of Python per byte
# of XML), the sheets are streamed: hence the tighter limit on the former.
FPR_MAX_XLSX_PART_MB = int(os.environ.get("FPR_MAX_XLSX_PART_MB", "256"))
FPR_MAX_XLSX_SHARED_STRINGS_MB = int(os.environ.get("FPR_MAX_XLSX_SHARED_STRINGS_MB", "64"))
# Invalid rows of one upload stored one by one (the rest only counted), and examples kept of rows of
# people not in the registry (not errors: only counted).
FPR_MAX_REJECTED_ROWS = int(os.environ.get("FPR_MAX_REJECTED_ROWS", "10000"))
FPR_UNMATCHED_EXAMPLE_ROWS = int(os.environ.get("FPR_UNMATCHED_EXAMPLE_ROWS", "20"))
# 规模性返贫风险: alert when a division's new warnings in a period exceed this multiple of its average over
# the previous periods (and at least the minimum count, so a quiet village with 1 → 3 is not an alert).
FPR_REGIONAL_ALERT_MULTIPLE = float(os.environ.get("FPR_REGIONAL_ALERT_MULTIPLE", "2.0"))
FPR_REGIONAL_ALERT_MIN_COUNT = int(os.environ.get("FPR_REGIONAL_ALERT_MIN_COUNT", "10"))
FPR_REGIONAL_ALERT_BASELINE_PERIODS = int(os.environ.get("FPR_REGIONAL_ALERT_BASELINE_PERIODS", "6"))
# A RUNNING job run older than this is taken to be dead (its worker was killed) and no longer locks.
FPR_JOB_LOCK_MINUTES = int(os.environ.get("FPR_JOB_LOCK_MINUTES", "120"))
# Cases under assistance longer than this without risk elimination go on the 加大帮扶 list.
FPR_INTENSIFY_AFTER_MONTHS = int(os.environ.get("FPR_INTENSIFY_AFTER_MONTHS", "3"))
