"""Settings for Viewer Admin.

Everything that differs between a laptop and a deployment comes from the environment; every
variable is documented in `.env.example`. `DJANGO_ENV=local` (the default) gives safe local
defaults and talks to the built-in Viewer API sandbox. `DJANGO_ENV=production` refuses to start
without a real secret key and Viewer API settings, and passes `manage.py check --deploy`.
"""

from __future__ import annotations

import os
import tempfile
import zoneinfo
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from viewer_admin.csp import content_security_policy, origin_of

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_float(name: str, default: float) -> float:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {raw!r}.") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero.")
    return value


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DJANGO_ENV = env_str("DJANGO_ENV", "local").lower()
if DJANGO_ENV not in {"local", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'local' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

# --- Core -----------------------------------------------------------------------------------

_LOCAL_SECRET_KEY = "local-only-insecure-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "" if PRODUCTION else _LOCAL_SECRET_KEY)
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == _LOCAL_SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters in "
        "production, e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'."
    )

# Off by default everywhere, so local mode shows the app's own error pages (404, 403) like
# production does; DJANGO_DEBUG=true turns Django's debug pages on locally. Static files are
# served by whitenoise either way (runserver's own static serving is off).
DEBUG = env_bool("DJANGO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the host(s) that serve the app.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the widget templates, for FORM_RENDERER below
    "django_htmx",
    "template_partials",
    "studies",
    "sandbox",
    "axes",  # sign-in: lock-out after failed attempts (see "Sign-in" below)
    "accounts",  # sign-in: audit, automatic log-off, drafts, single sign-on
    # Study imports in the background (see the "Study imports" block below).
    "django_tasks",
    "django_tasks_db",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "viewer_admin.headers.SecurityHeadersMiddleware",  # Permissions-Policy
    "viewer_admin.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "viewer_admin.middleware.NoStoreMiddleware",
    "sandbox.middleware.SandboxTransportMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "viewer_admin.clinic_time.ClinicTimeZoneMiddleware",  # times in CLINIC_TIME_ZONE
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.idle.IdleLogoffMiddleware",  # sign-in: automatic log-off after inactivity
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "viewer_admin.middleware.HtmxLoginRedirectMiddleware",
    # A study page that raises StudyNotFound / APIUnavailable gets its 404 / 503 page.
    "studies.middleware.StudyErrorPagesMiddleware",
    "axes.middleware.AxesMiddleware",  # sign-in: lock-out answer; stays last
]

ROOT_URLCONF = "viewer_admin.urls"
WSGI_APPLICATION = "viewer_admin.wsgi.application"

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
                "studies.context_processors.navigation",
                "accounts.context_processors.sign_in",
                "viewer_admin.clinic_time.clinic_time",
            ],
        },
    },
]

# --- Forms -----------------------------------------------------------------------------------

# Every form field renders through one template, templates/forms/field.html (label, help, control
# and errors), found through TEMPLATES above.
FORM_RENDERER = "viewer_admin.forms.FormRenderer"

# --- Database --------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
# Browser tests hit the live server from several threads at once: an in-memory SQLite test
# database would lock, so tests use a file, one per test process.
DATABASES["default"]["TEST"] = {
    "NAME": str(Path(tempfile.gettempdir()) / f"viewer_admin_test_{os.getpid()}.sqlite3")
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # On PostgreSQL a test run creates its own database, "test_" + the database's name, on
    # the server that DATABASE_URL names (the role needs CREATEDB) and drops it afterwards.
    DATABASES["default"]["TEST"] = {}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------------------

# Every app instance must see the same cache (cached API lists, shared by instances).
# Default: a database cache, shared by every instance that shares the database, with nothing
# more to run; `manage.py createcachetable` creates its table (script/server does).
# REDIS_URL (redis://HOST:PORT/DB, rediss:// for TLS) switches to Django's Redis backend, the
# better choice for a fleet of instances: no cache traffic on the database.
REDIS_URL = env_str("REDIS_URL")
# Seconds to wait for Redis to connect and to answer: a dead Redis fails a request (and
# /healthz) quickly instead of holding a server thread.
REDIS_TIMEOUT_SECONDS = env_float("REDIS_TIMEOUT_SECONDS", 2.0)


def caches_for(redis_url: str) -> dict[str, dict[str, Any]]:
    """CACHES for a Redis URL, or the database cache when it is empty."""
    if not redis_url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "viewer_admin_cache",
                "KEY_PREFIX": "viewer-admin",
            }
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "viewer-admin",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }


CACHES = caches_for(REDIS_URL)

# --- Auth ------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: lock-out, automatic log-off, single sign-on -------------------------------------
# The accounts app (accounts/) holds the sign-in audit, automatic log-off, form drafts and the
# OpenID Connect sign-on; django-axes counts failed sign-ins in the database, so every app
# instance on the same database sees the same counts and lock-outs.


# Lock-out: after SIGN_IN_FAILURE_LIMIT failed sign-ins for one username, or from one address,
# further attempts for it are refused for SIGN_IN_LOCKOUT_MINUTES (more attempts do not prolong
# it). An administrator lifts a lock-out early in Django admin ("Access attempts": delete it).
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
SIGN_IN_LOCKOUT_MINUTES = env_float("SIGN_IN_LOCKOUT_MINUTES", 15)
AXES_COOLOFF_TIME = SIGN_IN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.audit.client_address"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False
# The address of a sign-in attempt: REMOTE_ADDR, or behind a proxy that overwrites the header,
# the first address of X-Forwarded-For (set SIGN_IN_TRUST_X_FORWARDED_FOR=true only then).
SIGN_IN_TRUST_X_FORWARDED_FOR = env_bool("SIGN_IN_TRUST_X_FORWARDED_FOR", default=False)

# Automatic log-off after SESSION_IDLE_MINUTES without real input (page loads, form posts,
# htmx requests a person caused). Requests marked as background (accounts/idle.py) never
# extend it. The page warns SESSION_IDLE_WARNING_SECONDS before.
SESSION_IDLE_MINUTES = env_float("SESSION_IDLE_MINUTES", 15)
SESSION_IDLE_WARNING_SECONDS = env_float("SESSION_IDLE_WARNING_SECONDS", 60)
SESSION_COOKIE_AGE = 12 * 60 * 60  # an absolute cap of a working day on top of the idle limit
# URL names whose half-filled form is kept as a draft when the session runs out.
SIGN_IN_DRAFT_URL_NAMES = ["study_create", "study_edit"]

# Local passwords: off leaves single sign-on as the only way in (admin included).
LOCAL_PASSWORDS_ENABLED = env_bool("LOCAL_PASSWORDS_ENABLED", default=True)

# Single sign-on over OpenID Connect (mozilla-django-oidc), on when OIDC_RP_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "the hospital's sign-on")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile groups")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
# The claim (a list or a single string) that says which role a person has, and the values of it
# that make a coordinator or an observer. A person with neither is refused.
OIDC_ROLES_CLAIM = env_str("OIDC_ROLES_CLAIM", "groups")
OIDC_COORDINATOR_VALUES = env_list("OIDC_COORDINATOR_VALUES", ["viewer-admin-coordinators"])
OIDC_OBSERVER_VALUES = env_list("OIDC_OBSERVER_VALUES", ["viewer-admin-observers"])
if OIDC_ENABLED and not all(
    [OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT]
):
    raise ImproperlyConfigured(
        "OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT and OIDC_OP_USER_ENDPOINT "
        "must be set when OIDC_RP_CLIENT_ID is."
    )
if not (LOCAL_PASSWORDS_ENABLED or OIDC_ENABLED):
    raise ImproperlyConfigured("LOCAL_PASSWORDS_ENABLED=false needs single sign-on (OIDC_*).")
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts
    "studies.roles.OneQueryPermissionsBackend",  # permission checks in one query; signs no one in
    "accounts.oidc.RoleMappingOIDCBackend",  # does nothing unless OIDC_ENABLED
    *(["django.contrib.auth.backends.ModelBackend"] if LOCAL_PASSWORDS_ENABLED else []),
]

# --- Internationalisation --------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- The coordinator's shift: clinic time, the live worklist -----------------------------------

# Every time on a page is shown in the clinic's time zone (an IANA name such as Europe/Zurich),
# named once at the foot of the page; default: TIME_ZONE. viewer_admin.clinic_time activates it.
CLINIC_TIME_ZONE = env_str("CLINIC_TIME_ZONE", TIME_ZONE)
try:
    zoneinfo.ZoneInfo(CLINIC_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"CLINIC_TIME_ZONE={CLINIC_TIME_ZONE!r} is not a known time zone."
    ) from exc
# Seconds between two checks of the open worklist for new or changed studies (1 to 25, default
# 15): a change shows within 30 s. Each check is one small Viewer API call, paused while the
# tab is hidden, and never keeps the session alive.
WORKLIST_POLL_SECONDS = env_int("WORKLIST_POLL_SECONDS", 15)
if WORKLIST_POLL_SECONDS > 25:
    raise ImproperlyConfigured("WORKLIST_POLL_SECONDS must be at most 25 (a change shows in 30 s).")

# --- Static files ----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Locally (tests included) whitenoise serves straight from the source folders; production
# serves the collected, compressed and fingerprinted files from STATIC_ROOT.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Security --------------------------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Powerful browser features the app never uses, switched off for every page
# (accounts/headers.py sends it).
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "hid=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), "
    "browsing-topics=(), interest-cohort=()"
)
SESSION_COOKIE_HTTPONLY = True
# CONTENT_SECURITY_POLICY is set after the Viewer API settings below: its form-action needs them.
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env_str("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Viewer API ------------------------------------------------------------------------------

# The sandbox is a stand-in of the Viewer API served by this project under /sandbox/. It is on
# by default locally and off in production unless SANDBOX_ENABLED=true.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", default=not PRODUCTION)
if PRODUCTION and SANDBOX_ENABLED:
    # The app calls the in-process sandbox at the plain-HTTP address it was given.
    SECURE_REDIRECT_EXEMPT.append(r"^sandbox/")
# In production the sandbox answers plain-HTTP requests from loopback only (the app calling
# itself); from anywhere else it wants HTTPS, unless SANDBOX_ALLOW_INSECURE=true says that
# plain HTTP is acceptable (a closed test network). See sandbox/middleware.py.
SANDBOX_ALLOW_INSECURE = env_bool("SANDBOX_ALLOW_INSECURE", default=False)
_LOCAL_PORT = env_str("PORT", "8000")
_LOCAL_API_KEY = "sandbox-demo-key"
VIEWER_API_BASE_URL = env_str(
    "VIEWER_API_BASE_URL", "" if PRODUCTION else f"http://127.0.0.1:{_LOCAL_PORT}/sandbox"
)
VIEWER_API_KEY = env_str("VIEWER_API_KEY", "" if PRODUCTION else _LOCAL_API_KEY)
VIEWER_API_TIMEOUT_SECONDS = env_float("VIEWER_API_TIMEOUT_SECONDS", 15.0)
VIEWER_API_CONNECT_TIMEOUT_SECONDS = env_float("VIEWER_API_CONNECT_TIMEOUT_SECONDS", 5.0)
VIEWER_API_CACHE_SECONDS = int(env_float("VIEWER_API_CACHE_SECONDS", 60))
# Keep-alive connections to the Viewer API that one app process keeps open (and the most it
# opens at once). Every server thread may be in an API call at the same time, so the default is
# the process's thread count (GUNICORN_THREADS, as script/server starts gunicorn: 8); with
# fewer, concurrent requests would queue for a connection.
VIEWER_API_MAX_CONNECTIONS = env_int("VIEWER_API_MAX_CONNECTIONS", env_int("GUNICORN_THREADS", 8))
if PRODUCTION and not (VIEWER_API_BASE_URL and VIEWER_API_KEY):
    raise ImproperlyConfigured(
        "VIEWER_API_BASE_URL and VIEWER_API_KEY must be set in production "
        "(e.g. https://api.avarasoftware.com and the clinic's Avara API key)."
    )
# Origins the Viewer's one-off links ("Open in Viewer") may point to. The browser reaches them
# through a redirect after a form post, which the CSP's form-action must allow. Default: the
# origin of VIEWER_API_BASE_URL.
VIEWER_LINK_ORIGINS = env_list("VIEWER_LINK_ORIGINS", [origin_of(VIEWER_API_BASE_URL)])
CONTENT_SECURITY_POLICY = content_security_policy(form_action=VIEWER_LINK_ORIGINS)

# --- Unknown outcomes: reading a study back ---------------------------------------------------
# When the answer to a change is lost (a timeout after sending, a dropped connection, a 5xx, an
# unreadable body), Viewer Admin reads the study back before it tells the coordinator anything:
# at once, then again with growing waits (0.25 s, doubling, at most 2 s each) while the call
# may still be running on the API, for at most this many seconds in all (default 6). Only when
# it still cannot tell does it say so ("We could not confirm ...").
VIEWER_API_READ_BACK_SECONDS = env_float("VIEWER_API_READ_BACK_SECONDS", 6.0)

# --- Study imports (background tasks) --------------------------------------------------------

# Imports are sent by Django's tasks framework (the django-tasks backport) with its database
# backend: `manage.py db_worker` runs the queued tasks (script/server starts one).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Rows of one import sent to the Viewer API at the same time (default 4).
IMPORT_PARALLEL_ROWS = int(env_float("IMPORT_PARALLEL_ROWS", 4))
# An import whose worker has not reported for this many seconds is taken over by another
# worker (its own died): default 30.
IMPORT_STALE_AFTER_SECONDS = env_float("IMPORT_STALE_AFTER_SECONDS", 30.0)
# A create attempt still "sending" after this many seconds was abandoned (its process died
# mid-call: a killed worker or web process) and may be sent again with its token: default
# 120, longer than any Viewer API call with its retries and read-back can take.
SUBMISSION_SENDING_STALE_SECONDS = env_float("SUBMISSION_SENDING_STALE_SECONDS", 120.0)
# What one uploaded or pasted file may hold.
IMPORT_MAX_ROWS = 5000
IMPORT_MAX_BYTES = 5 * 1024 * 1024
# A pasted block arrives as a form field: allow the import's limit plus room for the rest.
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024

# --- PACS (DICOMweb) ------------------------------------------------------------------------

# The clinic's PACS, for "Find in PACS" and the detail page's "In PACS?": the DICOMweb
# (QIDO-RS) root, e.g. http://127.0.0.1:8042/dicom-web. Empty (the default): those features
# say "No PACS is configured" and nothing else changes. script/server starts a demo Orthanc
# and sets it. Credentials: HTTP basic (user name and password) or a bearer token (which wins
# when both are set); they stay on the server.
DICOMWEB_URL = env_str("DICOMWEB_URL")
DICOMWEB_USERNAME = env_str("DICOMWEB_USERNAME")
DICOMWEB_PASSWORD = env_str("DICOMWEB_PASSWORD")
DICOMWEB_TOKEN = env_str("DICOMWEB_TOKEN")
DICOMWEB_TIMEOUT_SECONDS = env_float("DICOMWEB_TIMEOUT_SECONDS", 10.0)
DICOMWEB_CONNECT_TIMEOUT_SECONDS = env_float("DICOMWEB_CONNECT_TIMEOUT_SECONDS", 3.0)
# DICOM attributes (keywords) that "Use this study" and "Read from DICOM file" copy into
# metadata rows. Patient name and ID are never copied unless listed here.
DICOMWEB_METADATA_ATTRIBUTES = env_list(
    "DICOMWEB_METADATA_ATTRIBUTES", ["AccessionNumber", "ModalitiesInStudy", "StudyDate"]
)
# Results per page of "Find in PACS" (at most 100).
DICOMWEB_RESULT_LIMIT = min(100, max(1, int(env_float("DICOMWEB_RESULT_LIMIT", 20))))

# --- Logging ---------------------------------------------------------------------------------

# No log line carries a Study Instance UID, a name, an email or a description: every handler
# runs `RedactIdentifiers`, which logs request paths as route templates and query strings as
# their keys (viewer_admin/log_redaction.py). Django's own loggers ("django", incl.
# django.request's "Not Found: /…", and the development server's request lines) are routed
# through these handlers instead of Django's defaults. gunicorn's logs:
# viewer_admin/gunicorn_conf.py.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "viewer_admin.log_redaction.RedactIdentifiers"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO; URLs can carry UIDs and names. Our service
        # module writes its own line per call instead.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Sessions ---------------------------------------------------------------------------------

# Sessions are read from the cache (REDIS_URL's Redis, or the database cache) and written
# through to the database: a page reads no session row, a restarted or flushed cache signs
# no one out, and every instance sharing the cache and the database sees the same sessions.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
