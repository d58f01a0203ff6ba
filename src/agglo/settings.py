"""One settings module, driven by environment variables (documented in README.md)."""

from __future__ import annotations

import json
import math
import os
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("AGGLO_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("AGGLO_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_number(name: str, default: Any, *, whole: bool = True, low: float = 0, high: float | None = None) -> Any:
    """A number from the environment (whole unless `whole` is false) within [low, high], else one clear line."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {'a whole number' if whole else 'a number'}, got {raw!r}") from None
    if not (low <= value and (high is None or value <= high)):  # a nan fails both
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ImproperlyConfigured(f"{name} must be {bounds}, got {raw}")
    return value


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, normalise: Callable[[str], str] = str.strip
) -> str:
    value = normalise(os.environ.get(name, default).strip() or default)
    if value not in choices:
        named = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)
        raise ImproperlyConfigured(f"{name} must be {named}, got {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    return default if raw is None else [item.strip() for item in raw.split(",") if item.strip()]


# Production mode refuses the conveniences that are only safe on a developer's machine.
PRODUCTION = env_bool("AGGLO_PRODUCTION", False)
DEBUG = env_bool("AGGLO_DEBUG", False)

_DEV_SECRET = "agglo-dev-insecure-secret-key-change-me-for-any-real-deployment-0123456789"
SECRET_KEY = os.environ.get("AGGLO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
ALLOWED_HOSTS = env_list("AGGLO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("AGGLO_CSRF_TRUSTED_ORIGINS", [])

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("AGGLO_DEBUG must be off")
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET or len(set(SECRET_KEY)) < 5:
        problems.append("AGGLO_SECRET_KEY must be set to a random value of at least 50 characters")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("AGGLO_ALLOWED_HOSTS must list the real host names")
    base = os.environ.get("AGGLO_BASE_URL", "")
    if not base.startswith("https://") or urlsplit(base).hostname in ("127.0.0.1", "localhost", "::1"):
        # the links mailed to members (password resets above all) are built on it, never on a request's Host; on
        # plain HTTP they would cross the network readable, to a platform that answers only HTTPS (review 102)
        problems.append("AGGLO_BASE_URL must be the platform's public HTTPS address, e.g. https://agglo.example.cn")
    if problems:
        raise ImproperlyConfigured("Refusing insecure production settings: " + "; ".join(problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "django_tasks",
    "agglo.common.apps.TaskQueueConfig",  # django_tasks_db, named in the reader's language
    "agglo.common",
    "agglo.access",
    "agglo.registry",
    "agglo.profiles",
    "agglo.market",
    "agglo.matching",
    "agglo.factory",
    "agglo.ledger",
    "agglo.policy",
    "agglo.web",
    "agglo.demo",
    "agglo.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "agglo.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "agglo.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "agglo.web.middleware.RequestSizeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "agglo.web.middleware.UserLanguageMiddleware",
    "agglo.web.middleware.TwoFactorEnrolmentMiddleware",
    "agglo.web.middleware.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "agglo.web.resent_forms.ResentFormMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "agglo.web.middleware.ApiEnvelopeMiddleware",
]

ROOT_URLCONF = "agglo.urls"
WSGI_APPLICATION = "agglo.wsgi.application"
ASGI_APPLICATION = "agglo.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agglo.web.context_processors.navigation",
            ],
        },
    },
]

# SQLite under ./var by default; DATABASE_URL switches to PostgreSQL (or anything dj-database-url knows).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except (ValueError, KeyError) as exc:  # an unknown scheme, or no URL at all
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a database URL such as postgres://user:pass@host:5432/agglo ({exc})"
        ) from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("AGGLO_SQLITE_PATH", str(VAR_DIR / "agglo.sqlite3")),
            "OPTIONS": {
                # WAL lets readers run beside the one writer; the busy timeout makes writers wait, not fail.
                # 64 MB page cache and memory-mapped reads keep the directory's index scans in memory.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
                ),
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LANGUAGE_CODE = env_choice("AGGLO_LANGUAGE", "zh-hans", tuple(dict(LANGUAGES)))
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("AGGLO_TIME_ZONE", "Asia/Shanghai")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"AGGLO_TIME_ZONE must be a time zone, such as Asia/Shanghai; got {TIME_ZONE!r}"
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("AGGLO_MEDIA_ROOT", VAR_DIR / "media"))
# Uploads (admission documents, statement evidence) are served only through views that check who asks: on the
# host, readable by the platform's own user and group only.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve from the app folders in development so `agglo up` needs no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads (admission documents): limits checked by the service, named in the error.
AGGLO_UPLOAD_MAX_BYTES = env_number("AGGLO_UPLOAD_MAX_BYTES", 10 * 1024 * 1024, low=1)
# an import file (CSV or XLSX, at most 200,000 rows): refused unread above this
AGGLO_IMPORT_MAX_BYTES = env_number("AGGLO_IMPORT_MAX_BYTES", 40 * 1024 * 1024, low=1)
AGGLO_UPLOAD_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# a whole request: the largest form takes 10 documents (a policy's) or one import file, with room for its fields
AGGLO_REQUEST_MAX_BYTES = env_number(
    "AGGLO_REQUEST_MAX_BYTES", max(10 * AGGLO_UPLOAD_MAX_BYTES, AGGLO_IMPORT_MAX_BYTES) + 2**20, low=2**20
)

# Background work: immediate in tests and development, a database queue with `agglo worker` otherwise.
TASK_BACKEND = env_choice("AGGLO_TASK_BACKEND", "database", ("database", "immediate"))
# a task "running" for longer than this was left by a worker that stopped: the next worker to start runs it again
AGGLO_TASK_STALE_MINUTES = env_number("AGGLO_TASK_STALE_MINUTES", 60, low=5, high=24 * 60)
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if TASK_BACKEND == "immediate"
        else "django_tasks_db.DatabaseBackend"
    }
}

# Mail to applicants and members: printed to the console unless an SMTP server is configured.
# how long a form sent again waits for its first send to finish before the user is asked to wait (seconds), and
# after how long a request sent again takes over from a first one that never finished (a worker that died): longer
# than any request may run (the solver's limit among them)
AGGLO_RESEND_WAIT_S = env_number("AGGLO_RESEND_WAIT_S", 15.0, whole=False, low=0, high=120)
AGGLO_BASE_URL = os.environ.get("AGGLO_BASE_URL", "http://127.0.0.1:8000")
# Needs and offers: whether operators review them before they are published, and how long they stay up.
AGGLO_MARKET_REVIEW = env_bool("AGGLO_MARKET_REVIEW", False)
AGGLO_LISTING_DAYS = env_number("AGGLO_LISTING_DAYS", 90, low=1)
# Ranking weight overrides as JSON, e.g. {"cross_region": 0.2} (matching.ranking.Weights names the signals).
try:
    AGGLO_MATCHING_WEIGHTS = json.loads(os.environ.get("AGGLO_MATCHING_WEIGHTS", "{}") or "{}")
except json.JSONDecodeError as exc:
    raise ImproperlyConfigured(f"AGGLO_MATCHING_WEIGHTS must be a JSON object: {exc}") from None
# Sentence embeddings blended into matching: "" (off) or "use-m3" (a model inside an installed package).
AGGLO_MATCHING_EMBEDDINGS = os.environ.get("AGGLO_MATCHING_EMBEDDINGS", "")
# Virtual factory: plan horizon in weeks, the solver's time limit per plan, hours a factory has to answer an
# offer, and the share of an order reserved for newcomers on probation (0 = none).
AGGLO_FACTORY_WEEKS = env_number("AGGLO_FACTORY_WEEKS", 12, low=1)
AGGLO_FACTORY_TIME_LIMIT = env_number("AGGLO_FACTORY_TIME_LIMIT", 5.0, whole=False, low=0.1, high=3600)
AGGLO_RESEND_STALE_S = env_number(
    "AGGLO_RESEND_STALE_S", max(180, math.ceil(AGGLO_FACTORY_TIME_LIMIT) + 60), low=60, high=86_400
)
if AGGLO_RESEND_STALE_S < AGGLO_FACTORY_TIME_LIMIT + 60:  # a plan still being solved must not be solved twice
    raise ImproperlyConfigured(
        "AGGLO_RESEND_STALE_S must be at least AGGLO_FACTORY_TIME_LIMIT + 60 seconds "
        f"({AGGLO_FACTORY_TIME_LIMIT + 60:g}); got {AGGLO_RESEND_STALE_S}"
    )
AGGLO_FACTORY_ANSWER_HOURS = env_number("AGGLO_FACTORY_ANSWER_HOURS", 72, low=1)
AGGLO_FACTORY_NEWCOMER_SHARE = env_number("AGGLO_FACTORY_NEWCOMER_SHARE", 0.0, whole=False, low=0, high=1)
# Transparency log: the checkpoint origin (also the key's name), the signing key (PRIVATE+KEY+… as made by
# `agglo ledger keygen`) or the file that holds it, and how checkpoints follow appends: "commit" publishes one
# after every transaction that logged something, "interval" leaves it to `agglo ledger publish --every S`.
AGGLO_LEDGER_ORIGIN = os.environ.get("AGGLO_LEDGER_ORIGIN", "localhost/agglo/ledger")
AGGLO_LEDGER_KEY = os.environ.get("AGGLO_LEDGER_KEY", "")
AGGLO_LEDGER_KEY_FILE = os.environ.get("AGGLO_LEDGER_KEY_FILE", str(VAR_DIR / "ledger-key.txt"))
AGGLO_LEDGER_PUBLISH = env_choice("AGGLO_LEDGER_PUBLISH", "commit", ("commit", "interval"))
EMAIL_HOST = os.environ.get("AGGLO_EMAIL_HOST", "")
EMAIL_PORT = env_number("AGGLO_EMAIL_PORT", 25, low=1, high=65535)
EMAIL_HOST_USER = os.environ.get("AGGLO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("AGGLO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("AGGLO_EMAIL_TLS", False)
EMAIL_USE_SSL = env_bool("AGGLO_EMAIL_SSL", False)  # implicit TLS (port 465); AGGLO_EMAIL_TLS is STARTTLS
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("AGGLO_EMAIL_TLS and AGGLO_EMAIL_SSL: set one of them, not both")
# A mail server that takes the connection and never answers held the task worker, and every task behind it.
EMAIL_TIMEOUT = env_number("AGGLO_EMAIL_TIMEOUT", 30, low=1, high=600)
DEFAULT_FROM_EMAIL = os.environ.get("AGGLO_EMAIL_FROM", "agglo@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)

# Logging in: failures before a 15-minute lock (per username, per client address), and whether operators and
# organization admins must use TOTP (on by default in production).
AGGLO_LOGIN_MAX_FAILURES = env_number("AGGLO_LOGIN_MAX_FAILURES", 5, low=1)
AGGLO_LOGIN_MAX_FAILURES_PER_IP = env_number("AGGLO_LOGIN_MAX_FAILURES_PER_IP", 50, low=1)
AGGLO_LOGIN_LOCK_MINUTES = env_number("AGGLO_LOGIN_LOCK_MINUTES", 15, low=1)
AGGLO_TOTP_REQUIRED = env_bool("AGGLO_TOTP_REQUIRED", PRODUCTION)
# Trusted reverse proxies in front of the app (0 = none): how far from the right of X-Forwarded-For the client is.
AGGLO_PROXY_HOPS = env_number("AGGLO_PROXY_HOPS", 1 if PRODUCTION else 0)

# Rate limits: {kind: [requests per minute, burst]} per client address, logged-in user, API token and node;
# token buckets in the database (shared by every process), or in Redis when AGGLO_REDIS_URL is set.
try:
    AGGLO_RATE_LIMITS = {
        "ip": [1200, 300],
        "user": [1200, 300],
        "token": [1200, 300],
        "node": [3000, 600],
        "reset": [1 / 20, 3],  # password-reset mails per address: three, then one every 20 minutes
        # profile reads by visitors not logged in, per address: 100 at once, then about 300 a day
        "anon_profile": [300 / 1440, 100],
        # the log's checkpoint and tiles per address, instead of "ip": immutable, cheap reads that an outside
        # verifier fetches by the thousand (two per 256 entries), which the pages' limit would stop
        "log": [12000, 3000],
        **json.loads(os.environ.get("AGGLO_RATE_LIMITS", "{}") or "{}"),
    }
except (json.JSONDecodeError, TypeError, ValueError) as exc:  # bad JSON, or JSON that is no object
    raise ImproperlyConfigured(f"AGGLO_RATE_LIMITS must be a JSON object: {exc}") from None
_RATE_KINDS = ("ip", "user", "token", "node", "reset", "anon_profile", "log")
for _kind, _pair in AGGLO_RATE_LIMITS.items():  # each [per minute, burst]: checked here, not by the first request
    if _kind not in _RATE_KINDS:  # a misspelt kind ("IP") was kept, unused, and the intended limit never changed
        raise ImproperlyConfigured(
            f"AGGLO_RATE_LIMITS: {_kind!r} is no kind of limit; the kinds are {', '.join(_RATE_KINDS)}"
        )
    if not (
        isinstance(_pair, list)
        and len(_pair) == 2
        and all(isinstance(n, (int, float)) and not isinstance(n, bool) and n > 0 for n in _pair)
    ):
        raise ImproperlyConfigured(
            f"AGGLO_RATE_LIMITS: {_kind!r} must be [requests per minute, burst], two positive numbers, got {_pair!r}"
        )
AGGLO_RATE_LIMITING = env_bool("AGGLO_RATE_LIMITING", True)
AGGLO_RATE_BACKEND = env_choice("AGGLO_RATE_BACKEND", "database", ("database", "memory"))
AGGLO_REDIS_URL = os.environ.get("AGGLO_REDIS_URL", "")
if AGGLO_REDIS_URL and not AGGLO_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"AGGLO_REDIS_URL must start with redis://, rediss:// or unix://, got {AGGLO_REDIS_URL!r}"
    )
# Anti-harvesting: per user and day, other members' profiles viewed, exports made, and policies published or
# published rules changed (each matches the members again; operators are exempt).
AGGLO_DAILY_LIMITS = {
    "profile_view": env_number("AGGLO_DAILY_PROFILE_VIEWS", 300),
    "export": env_number("AGGLO_DAILY_EXPORTS", 20),
    "policy_match": env_number("AGGLO_DAILY_POLICY_MATCHES", 20),
}

SESSION_COOKIE_HTTPONLY = True
# messages wait in the session, on the server: one may hold a secret shown once (a new token), which a cookie
# would carry to the browser and back in clear (review 47 F7)
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_number("AGGLO_SESSION_HOURS", 12, low=1) * 3600
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Content security policy: everything from this origin, no inline scripts, no framing.
AGGLO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("AGGLO_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's probe may come over plain HTTP from inside
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_number("AGGLO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOG_LEVEL = env_choice(
    "AGGLO_LOG_LEVEL", "WARNING", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), normalise=str.upper
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals": {"()": "agglo.common.logs.RefusalsWithoutTraceback"}},
    # when and where: an error line without its time and logger could not be matched to the access log
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

NINJA_PAGINATION_PER_PAGE = 20
