"""Settings for every environment; everything that differs comes from the environment."""

import contextlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from azukari.config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("AZUKARI_DATA_DIR", str(Path.cwd() / "var")))

DEBUG = env_bool("AZUKARI_DEBUG", False)
# AZUKARI_PRODUCTION=true turns on every transport and cookie protection and refuses to start
# without real secrets; see docs/security.md for the whole environment.
PRODUCTION = env_bool("AZUKARI_PRODUCTION", False)
# The fallback key is for the demo and tests only; `check --deploy` flags it in production.
SECRET_KEY = env_str("AZUKARI_SECRET_KEY") or "django-insecure-azukari-demo-key-change-me"
# Keys the audit hash chain; changing it makes earlier chains fail verification.
AZUKARI_AUDIT_KEY = env_str("AZUKARI_AUDIT_KEY") or SECRET_KEY
# Second factor (docs/security.md): administrators, managers, client approvers and superusers
# always; with this on (the production default), every role that reads or exports personal
# data in bulk (the permission table's `personal_data.bulk`: every role today).
AZUKARI_TWO_FACTOR_FOR_BULK_READERS = env_bool("AZUKARI_TWO_FACTOR_FOR_BULK_READERS", PRODUCTION)
# With this on (the production default), a first authenticator is enrolled only with a one-time
# code an administrator issued, so a stolen password alone cannot enrol one.
AZUKARI_TWO_FACTOR_ENROLMENT_ISSUED = env_bool("AZUKARI_TWO_FACTOR_ENROLMENT_ISSUED", PRODUCTION)
# Ports outgoing webhooks may use (443 unless the deployment lists more, e.g. "443,8443").
AZUKARI_WEBHOOK_PORTS = [int(p) for p in env_list("AZUKARI_WEBHOOK_PORTS", ["443"])]
# An audit event still unsealed after this long fails `audit verify` (the sealer runs every
# minute, so only a stopped worker or a row the sealer refused stays that long).
AZUKARI_AUDIT_PENDING_MINUTES = env_int("AZUKARI_AUDIT_PENDING_MINUTES", 10)
if PRODUCTION and (SECRET_KEY.startswith("django-insecure") or not env_str("AZUKARI_AUDIT_KEY")):
    raise ImproperlyConfigured(
        "AZUKARI_PRODUCTION needs AZUKARI_SECRET_KEY and AZUKARI_AUDIT_KEY from the environment"
    )
ALLOWED_HOSTS = env_list("AZUKARI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("AZUKARI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # one-time enrolment codes issued by an administrator
    "azukari.core",
    "azukari.org",
    "azukari.customers",
    "azukari.subscriptions",
    "azukari.cases",
    "azukari.api",
    "azukari.audit",
    "azukari.floor",
    "azukari.reports",
    "azukari.dataio",
    "azukari.selfservice",
    "azukari.web",
    "azukari.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "azukari.web.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "azukari.web.security.SessionLifetimeMiddleware",
    "azukari.web.security.TwoFactorMiddleware",
    "azukari.org.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "azukari.config.urls"
WSGI_APPLICATION = "azukari.config.wsgi.application"
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = ["azukari.org.auth.AccessBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _parse_database_url(url: str) -> dict:
    """dj-database-url reads one host; libpq takes a list (`postgres://u@h1:p1,h2:p2/db`) and
    tries it in order, so with `?target_session_attrs=read-write` a new connection finds the
    primary after a failover (docs/topology.md)."""
    options = {
        "conn_max_age": env_int("AZUKARI_DB_CONN_MAX_AGE", 0),
        # A kept connection is tested before each request reuses it: after a failover the
        # request reconnects instead of failing on a connection to the old primary.
        "conn_health_checks": env_bool("AZUKARI_DB_CONN_HEALTH_CHECKS", True),
    }
    hosts = urlsplit(url).netloc.rpartition("@")[2]
    if "," not in hosts:
        return dj_database_url.parse(url, **options)
    db = dj_database_url.parse(url.replace(hosts, hosts.split(",")[0], 1), **options)
    pairs = [
        h.rpartition(":") if h.rfind(":") > h.rfind("]") else (h, "", "") for h in hosts.split(",")
    ]
    db["HOST"] = ",".join(host.strip("[]") for host, _colon, _port in pairs)
    db["PORT"] = ",".join(port or "5432" for _host, _colon, port in pairs)
    return db


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'azukari.sqlite3'}"
    db = _parse_database_url(url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["OPTIONS"] = {
            # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock
            # at BEGIN so two writers queue instead of failing on a lock upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # File-based test database so that tests can use several connections at once; one
        # file per test process so that parallel runs never share one.
        default_test = DATA_DIR / f"test-{os.getpid()}.sqlite3"
        db["TEST"] = {"NAME": env_str("AZUKARI_TEST_DB_NAME", str(default_test))}
    elif env_str("AZUKARI_TEST_DB_NAME"):
        db["TEST"] = {"NAME": env_str("AZUKARI_TEST_DB_NAME")}
    return db


DATABASES = {"default": _database()}
# A streaming replica (PostgreSQL), optional: reads that may lag (reports, exports, the board's
# trend) go there, everything else stays on the primary (azukari/core/dbrouting.py). With
# several hosts and `target_session_attrs=prefer-standby` it follows a failover.
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **_parse_database_url(env_str("DATABASE_REPLICA_URL")),
        "TEST": {"MIRROR": "default"},  # tests read the test database through it
    }
DATABASE_ROUTERS = ["azukari.core.dbrouting.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_URL_PATH = "/" + STATIC_URL
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serves the apps' static files before any collectstatic
# Whitenoise expects the folder; a read-only deployment runs collectstatic at build time.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Sessions: an idle limit (no request for that long) and an absolute one (a shift), both
# enforced by azukari.web.security.SessionLifetimeMiddleware; the cookie lives no longer.
# Where the desks' long wait for calls is served (`azukari desk_wait` behind the same
# address, e.g. "/desk/incoming/wait/"); empty: the desks poll (docs/design.md, "The idle desk").
AZUKARI_DESK_WAIT_URL = env_str("AZUKARI_DESK_WAIT_URL", "")
AZUKARI_SESSION_IDLE_MINUTES = env_int("AZUKARI_SESSION_IDLE_MINUTES", 30)
AZUKARI_SESSION_ABSOLUTE_HOURS = env_int(
    "AZUKARI_SESSION_ABSOLUTE_HOURS", env_int("AZUKARI_SESSION_AGE", 12 * 3600) // 3600
)
SESSION_COOKIE_AGE = AZUKARI_SESSION_ABSOLUTE_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("AZUKARI_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("AZUKARI_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("AZUKARI_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("AZUKARI_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("AZUKARI_HSTS_PRELOAD", PRODUCTION)
if env_bool("AZUKARI_BEHIND_TLS_PROXY", False):
    # Only behind a proxy that always sets this header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies append to X-Forwarded-For (0: trust REMOTE_ADDR only).
AZUKARI_PROXY_COUNT = env_int("AZUKARI_PROXY_COUNT", 0)
# Log-in throttling (failed attempts per name / per address within the lock window).
AZUKARI_LOGIN_MAX_FAILURES = env_int("AZUKARI_LOGIN_MAX_FAILURES", 5)
AZUKARI_LOGIN_MAX_FAILURES_PER_IP = env_int("AZUKARI_LOGIN_MAX_FAILURES_PER_IP", 20)
AZUKARI_LOGIN_LOCK_MINUTES = env_int("AZUKARI_LOGIN_LOCK_MINUTES", 15)
# Request bodies larger than this are refused before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("AZUKARI_MAX_BODY_BYTES", 2_621_440)
# How far ahead a due time or a promised callback may be set (days).
AZUKARI_MAX_DAYS_AHEAD = env_int("AZUKARI_MAX_DAYS_AHEAD", 366)
# An import without a heartbeat for this long is taken for dead: the next import clears it.
AZUKARI_IMPORT_STALE_SECONDS = env_int("AZUKARI_IMPORT_STALE_SECONDS", 120)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# API requests per token per minute (0: no limit); see azukari/api/throttle.py.
AZUKARI_API_REQUESTS_PER_MINUTE = env_int("AZUKARI_API_REQUESTS_PER_MINUTE", 3000)
# Exports of personal data per person per hour (0: no limit); see azukari/audit/throttle.py.
AZUKARI_EXPORTS_PER_HOUR = env_int("AZUKARI_EXPORTS_PER_HOUR", 20)
OTP_TOTP_ISSUER = "Azukari"

EMAIL_BACKEND = env_str("AZUKARI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The demo (`azukari demo` sets it): demo-only controls such as "simulate an incoming call".
AZUKARI_DEMO = env_bool("AZUKARI_DEMO", False)
if PRODUCTION and AZUKARI_DEMO:
    raise ImproperlyConfigured("AZUKARI_DEMO is for the demo only, never with AZUKARI_PRODUCTION")
DEFAULT_FROM_EMAIL = env_str("AZUKARI_FROM_EMAIL", "azukari@localhost")
# Customer self-service: where links point, and how SMS are sent (see azukari/selfservice).
AZUKARI_SELFSERVICE_BASE_URL = env_str("AZUKARI_SELFSERVICE_BASE_URL", "http://127.0.0.1:8000")
AZUKARI_SMS_BACKEND = env_str(
    "AZUKARI_SMS_BACKEND", "azukari.selfservice.sending.ConsoleSmsBackend"
)
AZUKARI_SMS_URL = env_str("AZUKARI_SMS_URL", "")
AZUKARI_SMS_API_KEY = env_str("AZUKARI_SMS_API_KEY", "")
AZUKARI_SMS_SENDER = env_str("AZUKARI_SMS_SENDER", "")

# Background work: django-q2 on the ORM broker of the same database.
Q_CLUSTER = {
    "name": "azukari",
    "orm": "default",
    "workers": env_int("AZUKARI_WORKERS", 2),
    # A task running longer is killed (and runs again after `retry`).
    "timeout": env_int("AZUKARI_TASK_TIMEOUT", 120),
    # A task whose worker died (SIGKILL, a crash, a lost machine) is handed out again after
    # this many seconds: the recovery time of queued tasks. Must exceed `timeout`, or a task
    # still running would be handed out a second time.
    "retry": env_int("AZUKARI_TASK_RETRY", 180),
    # A failed or timed-out task (e.g. its connection dropped by a database failover) stays in
    # the queue and is handed out again after `retry`; after `max_attempts` failed runs it is
    # kept only as a failed task in the admin.
    "max_attempts": env_int("AZUKARI_TASK_MAX_ATTEMPTS", 10),
    "ack_failures": False,
    "catch_up": False,
    "poll": 0.5,
    "sync": env_bool("AZUKARI_TASKS_SYNC", False),
    "label": "Tasks",
}
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("AZUKARI_TASK_RETRY must be longer than AZUKARI_TASK_TIMEOUT")
# How long a webhook delivery taken by a worker is left to it (see
# azukari.api.services.claim_lease): a killed worker's deliveries go out again this long after
# they were taken, plus up to a minute for the retry scan.
AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS = env_int("AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS", 300)
if Q_CLUSTER["timeout"] + 30 > AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS:
    raise ImproperlyConfigured(
        "AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS must be at least AZUKARI_TASK_TIMEOUT + 30 seconds"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("AZUKARI_LOG_LEVEL", "WARNING")},
    # Failed log-ins, leavers, refused access: kept at WARNING whatever the root level is.
    "loggers": {"azukari.security": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
