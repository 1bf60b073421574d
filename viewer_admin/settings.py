"""Settings for Viewer Admin.

Everything that differs between a laptop and a deployment comes from the environment; every
variable is documented in `.env.example`. `DJANGO_ENV=local` (the default) gives safe local
defaults and talks to the built-in Viewer API sandbox. `DJANGO_ENV=production` refuses to start
without a real secret key and Viewer API settings, and passes `manage.py check --deploy`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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

DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
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
    "django_htmx",
    "template_partials",
    "studies",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "viewer_admin.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "viewer_admin.middleware.HtmxLoginRedirectMiddleware",
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
            ],
        },
    },
]

# --- Database and cache ----------------------------------------------------------------------

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
    DATABASES["default"]["TEST"] = {}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A database cache is shared by every app instance that shares the database, with nothing more
# to run. `manage.py createcachetable` creates its table (script/server does).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "viewer_admin_cache",
        "KEY_PREFIX": "viewer-admin",
    }
}

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

# --- Internationalisation --------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

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
_LOCAL_PORT = env_str("PORT", "8000")
_LOCAL_API_KEY = "sandbox-demo-key"
VIEWER_API_BASE_URL = env_str(
    "VIEWER_API_BASE_URL", "" if PRODUCTION else f"http://127.0.0.1:{_LOCAL_PORT}/sandbox"
)
VIEWER_API_KEY = env_str("VIEWER_API_KEY", "" if PRODUCTION else _LOCAL_API_KEY)
VIEWER_API_TIMEOUT_SECONDS = env_float("VIEWER_API_TIMEOUT_SECONDS", 15.0)
VIEWER_API_CONNECT_TIMEOUT_SECONDS = env_float("VIEWER_API_CONNECT_TIMEOUT_SECONDS", 5.0)
VIEWER_API_CACHE_SECONDS = int(env_float("VIEWER_API_CACHE_SECONDS", 60))
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO; URLs can carry UIDs and names. Our service
        # module writes its own line per call instead.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
