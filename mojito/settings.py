"""mojito settings: every knob comes from the environment (django-environ, `.env` supported).

With no environment at all the service runs on embedded defaults (a SQLite file and kombu's
filesystem broker under `var/`), which is what `bin/run` uses on a fresh machine. Tests,
docker-compose and production set `DATABASE_URL` and `CELERY_BROKER_URL` to PostgreSQL and Redis.
"""

import re
from importlib.metadata import version as _package_version
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Dev-only fallbacks exist only under DEBUG, so a production process without its secrets fails
# to start instead of running with a key that is public in this repository.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105
_DEV_FERNET_KEY = "dev-only-insecure-fernet-key-do-not-use-in-production"

SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

# Newest key first: new values are encrypted with it, every key in the list can decrypt.
FERNET_KEYS = env.list("FERNET_KEYS", default=[_DEV_FERNET_KEY] if DEBUG else [])
if not FERNET_KEYS:
    raise ImproperlyConfigured("FERNET_KEYS must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_standardized_errors",
    "django_json_widget",
    "adaccounts",
    "campaigns",
    "platforms.meta",
    "audit",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 413 for an oversized /api/ body before anything reads it; 503, not 500, for a view that
    # finds the database down.
    "mojito.middleware.RequestBodyLimitMiddleware",
    "mojito.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mojito.urls"
WSGI_APPLICATION = "mojito.wsgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mojito.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL bounds every wait of a session itself (seconds; 0: no limit), since nothing else
# does on the threads pool (see CELERY_TASK_TIME_LIMIT). A process frozen inside a transaction
# (a stalled worker) would hold its row locks and block every other worker: the server ends
# such a session. No statement of mojito's needs more than a fraction of the statement timeout
# (a whole 50 x 50 plan is one INSERT); migrations run under it too, and every one so far only
# adds tables and nullable or constant-default columns, which takes no time. A migration that
# rewrites or indexes a big table must lift it inside its own transaction
# (`SET LOCAL statement_timeout = 0` in a RunSQL first), or be run with DB_STATEMENT_TIMEOUT=0.
# The lock timeout stays for migrations too: a migration queued for a table lock would block
# every worker's statement behind it.
DB_IDLE_IN_TRANSACTION_TIMEOUT = env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT", default=60)
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=30.0)
DB_LOCK_TIMEOUT = env.float("DB_LOCK_TIMEOUT", default=10.0)
# Whole seconds (libpq's unit; it waits at least 2).
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _server_timeouts_ms = {
        "idle_in_transaction_session_timeout": DB_IDLE_IN_TRANSACTION_TIMEOUT * 1000,
        "statement_timeout": round(DB_STATEMENT_TIMEOUT * 1000),
        "lock_timeout": round(DB_LOCK_TIMEOUT * 1000),
    }
    # libpq's `options`: session settings sent with the connection, so they hold from the first
    # statement on, for every connection Django opens (web, worker, beat, management commands).
    _db_options["options"] = " ".join(
        [
            *filter(None, [_db_options.get("options")]),  # any given in DATABASE_URL
            *(f"-c {name}={ms}" for name, ms in _server_timeouts_ms.items()),
        ]
    )
    _db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the embedded file: wait for a lock instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "mojito" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves hashed, compressed files collected at build time; dev and tests
    # serve straight from the apps (no collectstatic needed).
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# A 50 x 50 ad tree with long copy stays well under this; larger bodies get 413 (every /api/
# endpoint: mojito.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- Security (production: DEBUG=false behind a TLS-terminating proxy) -----------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST framework ---------------------------------------------------------------------------
# Requests per user (so per API token) and, without a user, per client address, counted in the
# cache (Redis: shared by every web worker). "<n>/<s|min|hour|day>"; empty: no limit. Past it:
# 429 with Retry-After. /healthz and /readyz are never counted. The defaults bound abuse, not
# use: a client polling a few hundred jobs at once (100 requests a second) stays under them.
# The anonymous rate is as high: a client with a wrong or missing token must get API.md's 401
# at any pace a real client keeps (a 429 would hide what is wrong), and guessing tokens stays
# bounded all the same. The tests run with these defaults.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="6000/min")
API_THROTTLE_ANON_RATE = env.str("API_THROTTLE_ANON_RATE", default="6000/min")
# Lists take ?page_size= up to this; a larger one is served this many (DRF's max_page_size).
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=200)
REST_FRAMEWORK = {
    # Token first, so an unauthenticated call gets 401 with WWW-Authenticate rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "mojito.query.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "mojito.throttling.UserRateThrottle",
        "mojito.throttling.AnonymousRateThrottle",
    ],
    # Proxies in front that append to X-Forwarded-For (0: none, the client is REMOTE_ADDR).
    # The anonymous limit counts per client address: trusting the header beyond the proxies
    # that set it would let a client name a new address with every request.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "DEFAULT_SCHEMA_CLASS": "mojito.openapi.ApiAutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        # Each refuses U+0000 (a 400 naming the field): PostgreSQL stores it nowhere.
        "mojito.parsers.SafeJSONParser",
        # Form parsers serve the browsable API's HTML forms.
        "mojito.parsers.SafeFormParser",
        "mojito.parsers.SafeMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "mojito API",
    "DESCRIPTION": "Create and manage ads on Meta (and later Google Ads and TikTok) from code.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # 3.1: plain JSON Schema. 3.0 can only say "nullable" next to a `type`, so spectacular's
    # nullable references (allOf + nullable) would refuse null in a strict 3.0 validator.
    "OAS_VERSION": "3.1.0",
    # Operation ids and tags from what follows the version: ad_accounts_list, tag "jobs".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The API reads JSON; the form parsers serve only the browsable API's HTML forms, and a
    # form cannot carry the nested objects the bodies have.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "AdAccountStatusEnum": "adaccounts.models.AdAccountStatus",
        "JobStatusEnum": "campaigns.models.JobStatus",
        "PlatformTypeEnum": "platforms.base.PlatformType",
        "WebhookEventTypeEnum": "notifications.models.EventType",
        "WebhookDeliveryStatusEnum": "notifications.models.DeliveryStatus",
    }
    # Meta's choice sets, named for Meta: several share field names with the API's own
    # (status) or with each other (countries).
    | {
        f"Meta{name}Enum": f"platforms.meta.rules.{table}"
        for name, table in (
            ("CreateStatus", "CREATE_STATUSES"),
            ("Objective", "CURRENT_OBJECTIVES"),
            ("SpecialAdCategory", "SPECIAL_AD_CATEGORIES"),
            ("Country", "COUNTRY_CODES"),
            ("BuyingType", "BUYING_TYPES"),
            ("BidStrategy", "BID_STRATEGIES"),
            ("BillingEvent", "BILLING_EVENTS"),
            ("OptimizationGoal", "OPTIMIZATION_GOALS"),
            ("DestinationType", "DESTINATION_TYPES"),
            ("CallToActionType", "CALL_TO_ACTION_TYPES"),
            ("CustomEventType", "CUSTOM_EVENT_TYPES"),
        )
    }
    | {
        name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
        for name in (
            "ValidationErrorEnum",
            "ClientErrorEnum",
            "ServerErrorEnum",
            *(f"ErrorCode{code}Enum" for code in (401, 403, 404, 405, 406, 415, 429, 500)),
        )
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
    ],
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded broker: web, worker and beat exchange messages through files under var/.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (pidbox) exchanges; kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Longest task runtime allowed; the broker's visibility timeout must stay above it, or Redis
# would hand a still-running task to a second worker.
# Celery enforces these limits only in the prefork pool (it kills or signals the child
# process). The worker runs the threads pool (CELERY_WORKER_POOL), where a thread cannot be
# stopped: there they are never applied, and what keeps a job from hanging forever is that every
# blocking call carries its own timeout:
# - Graph HTTP calls, video uploads included (Meta fetches the video): META_REQUEST_TIMEOUT;
# - image downloads: MEDIA_FETCH_TIMEOUT (the whole fetch), MEDIA_FETCH_CONNECT_TIMEOUT;
# - PostgreSQL: DB_STATEMENT_TIMEOUT per statement, DB_LOCK_TIMEOUT per lock wait,
#   DB_IDLE_IN_TRANSACTION_TIMEOUT, DB_CONNECT_TIMEOUT (all set on the server session above);
# - the Redis cache (the rate-limit pauses every worker reads): CACHE_SOCKET_TIMEOUT per command,
#   CACHE_SOCKET_CONNECT_TIMEOUT;
# - the Redis broker: CELERY_BROKER_SOCKET_TIMEOUT per command, CELERY_BROKER_CONNECTION_TIMEOUT.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
# Publishing happens in the request path: fail fast when the broker is down, the sweeper
# re-publishes later.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# kombu waits forever for a reply by default: a publish to a broker gone silent (failover, a
# NAT or firewall dropping the connection) would hang the request or the worker thread. Keep it
# above kombu's BRPOP timeout (1 s), which the server answers only when that time is up.
CELERY_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_TASK_TIME_LIMIT * 2,
        "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
        "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
        # kombu otherwise retries a refused connection with sleeps before giving up (2 s
        # here); a request must not wait for that. Workers reconnect through Celery's own loop.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Jobs wait on Meta, not on the CPU: many jobs in flight per worker process on threads (each
# job builds its own SDK session and uses its own database connection).
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=32)
# Reuse database connections across tasks (see mojito/celery.py); Celery's Django fixup
# otherwise closes them around every task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Meta -------------------------------------------------------------------------------------
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com").rstrip("/")
# The Graph API version every call names. By default the one the pinned facebook-business SDK
# was built for (SDK 26.x: v26.0), so an SDK upgrade and a version move go together; see
# platforms/meta/README.md, "Moving to the next API version".
# (An empty value, as an uncommented `META_API_VERSION=` in .env, also means the default.)
META_API_VERSION = env.str("META_API_VERSION", default="") or "v{}.0".format(
    _package_version("facebook-business").split(".")[0]
)
if not re.fullmatch(r"v\d+\.\d+", META_API_VERSION):
    raise ImproperlyConfigured(f"META_API_VERSION must look like v26.0 (got {META_API_VERSION!r}).")
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_REQUEST_TIMEOUT = env.float("META_REQUEST_TIMEOUT", default=30.0)
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=300)
# Which addresses image, webhook and callback URLs may reach (mojito/addresses.py): public only
# by default; loopback too (bin/run's demo); any private address (tests, sandboxes). Link-local
# and cloud-metadata addresses are refused whatever these say.
MEDIA_FETCH_ALLOW_PRIVATE = env.bool("MEDIA_FETCH_ALLOW_PRIVATE", default=False)
MEDIA_FETCH_ALLOW_LOOPBACK = env.bool("MEDIA_FETCH_ALLOW_LOOPBACK", default=False)
# Image downloads: Meta's image limit is 30 MB; the whole fetch (redirects included) is timed.
MEDIA_FETCH_MAX_IMAGE_BYTES = env.int("MEDIA_FETCH_MAX_IMAGE_BYTES", default=30 * 1024 * 1024)
MEDIA_FETCH_TIMEOUT = env.float("MEDIA_FETCH_TIMEOUT", default=20.0)
MEDIA_FETCH_CONNECT_TIMEOUT = env.float("MEDIA_FETCH_CONNECT_TIMEOUT", default=5.0)

# --- Logging: to stdout, level from LOG_LEVEL --------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replace Django's own console handler (DEBUG only), which would print request
        # lines a second time through the root.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Test-data generators are chatty at DEBUG and say nothing worth reading.
        "faker": {"level": "INFO"},
        # urllib3 logs every request line at DEBUG, query string included: the SDK puts the
        # access token there, and media URLs may carry signed tokens.
        "urllib3": {"level": "INFO"},
        "factory": {"level": "INFO"},
    },
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "mojito.api.ApiExceptionHandler",
}

# --- Jobs -------------------------------------------------------------------------------------
# A PENDING job published this long ago and still not claimed is published again (the message
# was lost, or the broker was down at submission). Claiming is atomic, so a duplicate is harmless.
JOB_REPUBLISH_AFTER_SECONDS = env.int("JOB_REPUBLISH_AFTER_SECONDS", default=60)
JOB_SWEEP_INTERVAL_SECONDS = env.float("JOB_SWEEP_INTERVAL_SECONDS", default=15.0)
JOB_SWEEP_BATCH_SIZE = env.int("JOB_SWEEP_BATCH_SIZE", default=500)
# Jobs of one ad account running at once, across all workers (0: no cap). Meta's rate limits
# are per account; more parallelism there only reaches them sooner.
JOB_MAX_CONCURRENT_PER_ACCOUNT = env.int("JOB_MAX_CONCURRENT_PER_ACCOUNT", default=8)
JOB_ACCOUNT_BUSY_RETRY_SECONDS = env.float("JOB_ACCOUNT_BUSY_RETRY_SECONDS", default=1.0)
# A SYNC job that found its account's other jobs running or due looks again this much later.
JOB_SYNC_YIELD_SECONDS = env.float("JOB_SYNC_YIELD_SECONDS", default=15.0)
# Attempts a job may spend on transient failures before it ends FAILED / PARTIAL_SUCCESS.
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=5)
# Exponential backoff with jitter between transient failures: base * 2^(attempt-1), capped.
JOB_RETRY_BASE_SECONDS = env.float("JOB_RETRY_BASE_SECONDS", default=5.0)
JOB_RETRY_MAX_SECONDS = env.float("JOB_RETRY_MAX_SECONDS", default=600.0)
# Short waits are published with a broker countdown; longer ones are left to the sweeper, so
# no countdown ever outlives the broker's visibility timeout.
JOB_MAX_COUNTDOWN_SECONDS = env.float("JOB_MAX_COUNTDOWN_SECONDS", default=60.0)
# "batch": a job's plan goes to Meta as Graph batch requests (one round trip per ad set);
# "sequential": one request per object (slower; kept for comparison and as a fallback).
META_EXECUTION_MODE = env.str("META_EXECUTION_MODE", default="batch")
if META_EXECUTION_MODE not in {"batch", "sequential"}:
    raise ImproperlyConfigured("META_EXECUTION_MODE must be 'batch' or 'sequential'.")
META_BATCH_MAX_OPERATIONS = env.int("META_BATCH_MAX_OPERATIONS", default=50)  # Meta's limit
# Image uploads of one job run on this many threads, each with its own SDK session.
META_MEDIA_CONCURRENCY = env.int("META_MEDIA_CONCURRENCY", default=4)
# Seconds between two looks at a video Meta is still processing.
META_VIDEO_POLL_SECONDS = env.float("META_VIDEO_POLL_SECONDS", default=5.0)
# How long after a video was handed to Meta a job still waits for it to be processed; then the
# job fails (waiting spends no attempt, so without this a stuck video would hold it forever).
META_VIDEO_MAX_WAIT_SECONDS = env.float("META_VIDEO_MAX_WAIT_SECONDS", default=3600.0)
# Sync (API.md "Sync, insights and notifications"): beat reads every ACTIVE account's live
# objects and figures back from Meta this often (0: never; a campaign's sync on demand still
# runs), each account at its own moment of the interval, and a sync spends only what Meta's
# usage figures leave spare.
META_SYNC_INTERVAL_SECONDS = env.float("META_SYNC_INTERVAL_SECONDS", default=900.0)
META_SYNC_MAX_USAGE_PERCENT = env.float("META_SYNC_MAX_USAGE_PERCENT", default=50.0)
# Meta restates recent days' figures: each sync reads this many days again. A campaign whose
# figures were never read is read from its creation, this many days back at most.
META_INSIGHTS_LOOKBACK_DAYS = env.int("META_INSIGHTS_LOOKBACK_DAYS", default=3)
META_INSIGHTS_BACKFILL_DAYS = env.int("META_INSIGHTS_BACKFILL_DAYS", default=90)
# From this many rows (objects times days) figures come by Meta's asynchronous report runs,
# polled every META_INSIGHTS_POLL_SECONDS, given up after the max wait.
META_INSIGHTS_ASYNC_MIN_ROWS = env.int("META_INSIGHTS_ASYNC_MIN_ROWS", default=5000)
META_INSIGHTS_POLL_SECONDS = env.float("META_INSIGHTS_POLL_SECONDS", default=10.0)
META_INSIGHTS_REPORT_MAX_WAIT_SECONDS = env.float(
    "META_INSIGHTS_REPORT_MAX_WAIT_SECONDS", default=1800.0
)

# Webhooks and callbacks (API.md "Notifications"; notifications.delivery). A delivery that gets
# no 2xx is tried again after a random wait of up to base * 2^(attempt-1) seconds (full
# jitter), capped, until WEBHOOK_RETRY_FOR_SECONDS after its event; the sweeper publishes
# what is due. Each attempt has WEBHOOK_TIMEOUT_SECONDS to answer.
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5.0
WEBHOOK_RETRY_BASE_SECONDS = 10.0
WEBHOOK_RETRY_MAX_SECONDS = 3600.0
WEBHOOK_RETRY_FOR_SECONDS = 24 * 3600.0
WEBHOOK_SWEEP_INTERVAL_SECONDS = 5.0
WEBHOOK_SWEEP_BATCH_SIZE = 500
# An attempt's claim; past it (a worker that died mid-send) the delivery is due again.
WEBHOOK_LEASE_SECONDS = 60.0
# A due delivery published this long ago and not claimed is published again (a lost message).
WEBHOOK_REPUBLISH_AFTER_SECONDS = 60.0

CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {"task": "campaigns.tasks.jobs_sweep", "schedule": JOB_SWEEP_INTERVAL_SECONDS},
    "webhook-deliveries-sweep": {
        "task": "notifications.tasks.deliveries_sweep",
        "schedule": WEBHOOK_SWEEP_INTERVAL_SECONDS,
    },
}
if META_SYNC_INTERVAL_SECONDS > 0:
    # Each account's turn comes once per META_SYNC_INTERVAL_SECONDS; this only looks whose.
    CELERY_BEAT_SCHEDULE["sync-schedule"] = {
        "task": "campaigns.tasks.sync_schedule",
        "schedule": min(60.0, META_SYNC_INTERVAL_SECONDS),
    }

# --- Rate limits and the shared cache -----------------------------------------------------------
# Past this usage (percent of Meta's allowance) an ad account's jobs pause, across all workers.
META_USAGE_PAUSE_PERCENT = env.float("META_USAGE_PAUSE_PERCENT", default=80.0)
META_USAGE_PAUSE_SECONDS = env.float("META_USAGE_PAUSE_SECONDS", default=30.0)
# The pause is shared through the cache: Redis next to the broker, or a file cache shared by the
# embedded processes.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Same Redis server, database 1 (django-environ's scheme for Django's Redis backend).
    _redis_server = CELERY_BROKER_URL.rsplit("/", 1)[0].replace("redis", "rediscache", 1)
    CACHES = {"default": env.cache("CACHE_URL", default=f"{_redis_server}/1")}
else:
    CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
# Every worker reads the pauses before its Meta calls: a Redis gone silent must fail the call,
# not hold the thread. Set here rather than left to redis-py's default, which releases have
# changed (older ones wait forever). Options given in CACHE_URL's query string win.
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=2.0)
CACHE_SOCKET_CONNECT_TIMEOUT = env.float("CACHE_SOCKET_CONNECT_TIMEOUT", default=2.0)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    _cache_options = CACHES["default"].setdefault("OPTIONS", {})
    _cache_options.setdefault("socket_timeout", CACHE_SOCKET_TIMEOUT)
    _cache_options.setdefault("socket_connect_timeout", CACHE_SOCKET_CONNECT_TIMEOUT)

# A run extends its lease between Meta calls (and image downloads), at most every tenth of
# the lease; if the lease ran out within one call, the sweeper would hand a live run's job to
# another run while its request is still on its way: two runs, one object created twice.
if JOB_LEASE_SECONDS * 0.9 <= META_REQUEST_TIMEOUT + MEDIA_FETCH_TIMEOUT:
    raise ImproperlyConfigured(
        "JOB_LEASE_SECONDS must exceed META_REQUEST_TIMEOUT + MEDIA_FETCH_TIMEOUT."
    )
