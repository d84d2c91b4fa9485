"""One settings file, read from the environment, with laptop defaults.

Every knob an operator may turn is an environment variable; nothing is star-imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


DEBUG = env_bool("DEBUG", True)
# `make run` generates the installation's key into var/secret-key (scripts/serve.sh); reading it
# here too gives `manage.py` commands run beside it the same key, without which they would seal
# secrets (secret_box.py) the server cannot open.
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and (VAR_DIR / "secret-key").is_file():
    SECRET_KEY = (VAR_DIR / "secret-key").read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
# Fernet keys for secrets at rest (calendar_app/secret_box.py): the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = [key.strip() for key in os.environ.get("FIELD_ENCRYPTION_KEYS", "").split(",")
                         if key.strip()]  # fmt: skip
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_prometheus",
    "calendar_app",
]

MIDDLEWARE = [
    # django-prometheus' pair wraps the others: request latency by view and responses by status.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (collected into STATIC_ROOT) from the app server itself: the embedded default
    # has no web server in front of it, and DEBUG off stops Django serving them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "scheduler_site.middleware.RequestMetrics",  # django-prometheus' After, hardened
]

ROOT_URLCONF = "scheduler_site.urls"
WSGI_APPLICATION = "scheduler_site.wsgi.application"

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
                "calendar_app.web.access.context",
            ],
        },
    },
]

# SQLite is the embedded default; PostgreSQL (DATABASE_URL=postgres://...) in production.
# Connections are kept for DB_CONN_MAX_AGE seconds (checked before reuse): a new PostgreSQL
# connection per request cost 2.3 ms and cold caches, and doubled a getConflicts call (bench/api.py).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so check-then-write blocks
    # (select_for_update is a no-op on SQLite); WAL lets readers run beside the writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so that tests with threads share one database and real locks.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME", str(BASE_DIR / ".test-db.sqlite3"))
    }
elif DATABASES["default"]["ENGINE"].endswith(".postgresql"):  # Django's, or a wrapper of it
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that is no round trip (scheduler_site/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "scheduler_site.postgresql"
    # libpq waits for ever for a server that does not answer: a request gives up connecting after
    # DB_CONNECT_TIMEOUT seconds (libpq's minimum is 2) and answers that the database is
    # unavailable, instead of holding its thread for as long as libpq waits. A DATABASE_URL's own
    # ?connect_timeout= wins. (A stopped server refuses at once; tests/stack/test_faults_web.py.)
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 2)
    )
    # A statement still running after DB_STATEMENT_TIMEOUT seconds is cancelled (0, the default:
    # never). The web server kills no request that runs too long, so a runaway query would hold
    # its thread for good: scheduler_site/production.py sets 30 for the web processes, and
    # migrations and tasks, whose statements may rightly run longer, keep none.
    if seconds := env_int("DB_STATEMENT_TIMEOUT", 0):
        DATABASES["default"]["OPTIONS"].setdefault("options", f"-c statement_timeout={seconds * 1000}")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "calendar:home"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles"))

REDIS_URL = os.environ.get("REDIS_URL", "")

TASK_QUEUE_DIR = os.environ.get("TASK_QUEUE_DIR", "")


def shared_cache(name: str, max_entries: int) -> dict:
    """A cache every web process shares: Redis when there is one; for `make run` (several
    web processes on one host, TASK_QUEUE_DIR set) files under VAR_DIR/cache; else (tests,
    one-off commands: one process) this process's memory. A per-process copy in a multi-process
    server would let each process answer with its own feed version and write counter, so a
    device's poll would get 304 from one process and 200 from the next."""
    if REDIS_URL:
        # A Redis that is away is a miss, never an error (scheduler_site/redis_cache.py), and one
        # that does not answer costs a call at most the socket timeouts (Django's client would
        # wait for ever).
        return {
            "BACKEND": "scheduler_site.redis_cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": name,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    if TASK_QUEUE_DIR:
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / name),
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": name,
        "OPTIONS": {"MAX_ENTRIES": max_entries},
    }


# "feeds" holds assembled iCal feeds (feeds.py) and each partner's committed-write counter
# (fragments.version); bounded (a 10,000-event feed is 5 MB). Nothing of ours uses "default",
# but whatever does (a rate limit, cache_page, a library) must see what the other web processes
# wrote: shared too, never one process's memory beside others.
CACHES = {
    "default": shared_cache("default", 1000),
    "feeds": shared_cache("feeds", env_int("FEED_CACHE_ENTRIES", 64)),
    # Each partner's auth epoch (calendar_app/auth_epochs.py): which sessions a web process may
    # go on trusting without the database.
    "auth": shared_cache("auth", 10_000),
}

# How long a web process may remember a KS it checked (calendar_app/kaltura_api/session_memo.py),
# while its partner's auth epoch stands; 0: never. Only where the epochs are shared by every
# process (Redis, or make run's files): in one process's memory, a session ended through another
# process would go on working here.
SESSION_MEMO_SECONDS = env_int("SESSION_MEMO_SECONDS", 60 if REDIS_URL or TASK_QUEUE_DIR else 0)

# Celery, three ways:
# - REDIS_URL: Redis carries the tasks to the workers (production).
# - TASK_QUEUE_DIR: a queue of files in that folder, for the embedded default: `make run` starts
#   one worker process beside the web server, so no broker is installed and a bulk import never
#   holds the request that sent it (kombu's filesystem transport; one host only).
# - neither: tasks run eagerly in the process that sends them (tests, one-off commands).
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT = "scheduler_site.broker:Transport"  # kombu's, one fault mended (broker.py)
elif TASK_QUEUE_DIR:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": os.path.join(TASK_QUEUE_DIR, "messages"),
        "data_folder_out": os.path.join(TASK_QUEUE_DIR, "messages"),
        "control_folder": os.path.join(TASK_QUEUE_DIR, "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Nothing reads a task's result, and storing one made every send wait on Redis: with Redis down a
# commit that queued a sync push hung 19 s (the result subscription's retries) instead of 0.6 s.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = not (REDIS_URL or TASK_QUEUE_DIR)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that goes away (tests/stack/test_faults_queue.py): a worker, starting or running, waits
# for it as long as it takes (Celery's default gives up after 100 tries, ~50 min, and the worker
# exits); nothing is lost meanwhile, the outbox and the jobs are rows. Tasks running when the
# connection drops finish: their messages come back and the second delivery's claim (a
# conditional UPDATE) finds the work taken, so cancelling them (Celery 6's default) gains nothing
# and would cut a push or an import short.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Each task lives beside the work it does (its name pinned there); a worker imports these.
CELERY_IMPORTS = [
    "calendar_app.fragments",
    "calendar_app.imports.jobs",
    "calendar_app.imports.drop_folders",
    "calendar_app.sync.tasks",
    "calendar_app.devices.tasks",
    "calendar_app.publishing.tasks",
    "calendar_app.tasks",
]
# Periodic work, run by `celery -A scheduler_site beat` next to the workers.
CELERY_BEAT_SCHEDULE = {
    # Each folder keeps its own interval; this only asks which are due.
    "poll-drop-folders": {"task": "calendar_app.tasks.poll_drop_folders", "schedule": 60.0},
    "recover-bulk-uploads": {
        "task": "calendar_app.tasks.recover_bulk_uploads",
        "schedule": float(env_int("BULK_UPLOAD_RECOVER_EVERY", 300)),
    },
    "recover-sync": {
        "task": "calendar_app.tasks.sync_recover",
        "schedule": float(env_int("SYNC_RECOVER_EVERY", 30)),
    },
    "reconcile-sync": {
        "task": "calendar_app.tasks.sync_reconcile",
        "schedule": crontab(hour=env_int("SYNC_RECONCILE_HOUR", 3), minute=17),
    },
    # Uploads abandoned past UPLOAD_TOKEN_TIMEOUT_SECONDS lose their files (devices/uploads.py).
    "expire-upload-tokens": {"task": "calendar_app.tasks.expire_upload_tokens", "schedule": 600.0},
    # Schedule files (publishing/files.py): requests past their debounce whose task was lost or
    # could not wait (eager mode), and the daily republish that moves the window.
    "publish-schedule-files": {"task": "calendar_app.tasks.publish_due", "schedule": 60.0},
    # Open-ended series (no COUNT or UNTIL) get the occurrences that come within the horizon.
    "extend-open-series": {"task": "calendar_app.tasks.extend_open_series", "schedule": 3600.0},
}

# Sync to an upstream Kaltura (calendar_app/sync/, docs/sync.md); seconds.
SYNC_RETRY_BASE_SECONDS = env_int("SYNC_RETRY_BASE_SECONDS", 2)
SYNC_RETRY_MAX_SECONDS = env_int("SYNC_RETRY_MAX_SECONDS", 300)
# A PENDING operation no worker took this long after it was due was lost with its task.
SYNC_LOST_AFTER_SECONDS = env_int("SYNC_LOST_AFTER_SECONDS", 60)
# A RUNNING one this old lost its worker (a push takes seconds; its calls time out at 10 s).
SYNC_RUNNING_TIMEOUT_SECONDS = env_int("SYNC_RUNNING_TIMEOUT_SECONDS", 300)
SYNC_RECOVER_BATCH = env_int("SYNC_RECOVER_BATCH", 5000)
# A booking whose new room is being pushed by another worker waits this long before retrying.
SYNC_DEPENDENCY_WAIT_SECONDS = float(env_int("SYNC_DEPENDENCY_WAIT_SECONDS", 3))
SYNC_HTTP_TIMEOUT = float(env_int("SYNC_HTTP_TIMEOUT", 10))
# A recording is sent upstream in pieces of this size, one in memory at a time.
SYNC_UPLOAD_CHUNK_BYTES = env_int("SYNC_UPLOAD_CHUNK_BYTES", 8 * 1024**2)

# Delivery receipts (calendar_app/devices/receipts.py, docs/devices.md): a device polling the same
# version again within RECEIPT_MIN_INTERVAL seconds is not written again (the "receipts" cache
# remembers the last write); a device silent for DEVICE_QUIET_MINUTES with a booking on its
# resources within DEVICE_LOOKAHEAD_HOURS is flagged to staff.
RECEIPT_MIN_INTERVAL = env_int("RECEIPT_MIN_INTERVAL", 300)
DEVICE_QUIET_MINUTES = env_int("DEVICE_QUIET_MINUTES", 15)
DEVICE_LOOKAHEAD_HOURS = env_int("DEVICE_LOOKAHEAD_HOURS", 24)
CACHES["receipts"] = shared_cache("receipts", env_int("RECEIPT_CACHE_ENTRIES", 10_000))

# Health and metrics (calendar_app/health.py, heartbeats.py, metrics.py; docs/operations.md
# "Health and metrics").
# /healthz fails a worker whose last heartbeat (written every 15 s) is older than this, the beat
# when it sent nothing for this long (its shortest schedule entries come every 30-60 s), and the
# sync queue when an operation has waited past its due time this long. Seconds.
HEALTH_WORKER_STALE_SECONDS = env_int("HEALTH_WORKER_STALE_SECONDS", 60)
HEALTH_BEAT_STALE_SECONDS = env_int("HEALTH_BEAT_STALE_SECONDS", 180)
HEALTH_SYNC_STALE_SECONDS = env_int("HEALTH_SYNC_STALE_SECONDS", 900)
# The longest /healthz waits for a probe: a database or Redis that hangs fails its check instead.
HEALTH_TIMEOUT_SECONDS = env_int("HEALTH_TIMEOUT_SECONDS", 2)
# The heartbeats, shared by the workers, the beat and every web process; small (a key per worker).
CACHES["health"] = shared_cache("health", 1000)
# /metrics answers loopback (not through a proxy), or `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# A load balancer's or Prometheus' probe may speak plain HTTP to the node itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Scheduling limits (docs/architecture.md: recurrence caps, durations in seconds).
SCHEDULE_MAX_OCCURRENCES = env_int("SCHEDULE_MAX_OCCURRENCES", 1000)
SCHEDULE_MAX_HORIZON_DAYS = env_int("SCHEDULE_MAX_HORIZON_DAYS", 3 * 365 + 1)

# Entries (calendar_app/devices/entries.py): a recording made from a template entry is linked to
# the booking of that template under way, or ended at most this many seconds before it arrived.
RECORDING_MATCH_GRACE = env_int("RECORDING_MATCH_GRACE", 24 * 3600)

# The largest file a bulk upload or a drop folder takes; the API refuses bigger requests unread.
BULK_UPLOAD_MAX_BYTES = env_int("BULK_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# Bulk upload jobs (imports/jobs.py): one PROCESSING with a heartbeat this old lost its worker
# (a live one beats every few seconds); one QUEUED this long lost its task. Seconds.
BULK_UPLOAD_LOST_AFTER_SECONDS = env_int("BULK_UPLOAD_LOST_AFTER_SECONDS", 180)
BULK_UPLOAD_REDISPATCH_SECONDS = env_int("BULK_UPLOAD_REDISPATCH_SECONDS", 300)

# Uploads (calendar_app/devices/uploads.py, docs/devices.md): the largest recording, the largest
# chunk one request may carry (the API refuses a bigger body unread), and how long an unfinished
# or never-attached upload is kept. Files go to the default storage: MEDIA_ROOT, or S3 (any
# S3-compatible store, through django-storages) when MEDIA_S3_BUCKET is set.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 4 * 1024**3)
UPLOAD_CHUNK_MAX_BYTES = env_int("UPLOAD_CHUNK_MAX_BYTES", 512 * 1024**2)
UPLOAD_TOKEN_TIMEOUT_SECONDS = env_int("UPLOAD_TOKEN_TIMEOUT_SECONDS", 24 * 3600)
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# A chunk above Django's default 2.5 MB is streamed to a temporary file, never held in memory.
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": MEDIA_S3_BUCKET,
                "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("MEDIA_S3_REGION") or None,
                # Empty: boto3's own chain (AWS_* variables, instance roles).
                "access_key": os.environ.get("MEDIA_S3_ACCESS_KEY_ID") or None,
                "secret_key": os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
                "location": os.environ.get("MEDIA_S3_PREFIX", ""),
                "default_acl": None,
                "querystring_auth": True,
            },
        }
        if MEDIA_S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Served over HTTPS (a TLS proxy in front): Secure cookies, http redirected, HSTS. On whenever
# DEBUG is off, unless turned off: `make run` serves plain HTTP on this machine (HTTPS=false).
HTTPS = env_bool("HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is a lasting commitment for the whole domain: the
        # operator opts in with SECURE_HSTS_PRELOAD=true, so its absence is not a warning here.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# One console handler, on the root logger. Django's default config also gives the "django" logger
# a console handler (DEBUG only) and lets it propagate, so every django.* line (404s, the
# autoreloader) printed twice under `make run`. Naming "django" here with no handlers takes that
# one away; naming it also resets its children, so "django.server" (runserver's request lines,
# "[time] GET ...") is named again as Django defines it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # httpx logs every request at INFO: one line per call the sync makes to the upstream.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
