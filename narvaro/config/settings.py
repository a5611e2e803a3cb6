"""Narvaro settings: one module, everything driven by the environment.

Production differs from development only by environment variables (see .env.example).
The default is an embedded SQLite database inside NARVARO_HOME so that a fresh checkout
works with no services at all.
"""

from __future__ import annotations

import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent

env = environ.Env()


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE (Docker/systemd secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path}: {exc.strerror}") from exc
    return env.str(name, default=default)


def _typed(name: str, default: object, cast: str) -> object:
    """Read NAME with django-environ's `cast`, turning a bad value into ImproperlyConfigured."""
    try:
        return getattr(env, cast)(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name}={env.str(name)!r} is not a valid {cast}") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """A yes/no setting. A typo must not silently turn a protection off, so it is an error."""
    raw = env.str(name, default="")
    if not raw:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a valid bool (use true or false)")


def env_int(name: str, default: int) -> int:
    return int(_typed(name, default, "int"))  # type: ignore[call-overload]


def env_float(name: str, default: float) -> float:
    return float(_typed(name, default, "float"))  # type: ignore[arg-type]


NARVARO_HOME = Path(env.str("NARVARO_HOME", default=str(Path.cwd() / "narvaro-data"))).resolve()
try:
    NARVARO_HOME.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"NARVARO_HOME={NARVARO_HOME}: {exc.strerror}") from exc


def _secret_key() -> str:
    """The configured key, or one generated once into NARVARO_HOME and reused after."""
    configured = env_secret("NARVARO_SECRET_KEY")
    if configured:
        return configured
    key_file = NARVARO_HOME / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("NARVARO_DEBUG", False)
ALLOWED_HOSTS = env.list("NARVARO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("NARVARO_CSRF_TRUSTED_ORIGINS", default=[])
# The address people open Narvaro at, for links in e-mails (a mail has no request to take the
# host from; see narvaro.lib.links). Scheme and host only; the default is `narvaro serve`'s.
NARVARO_BASE_URL = env.str("NARVARO_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(NARVARO_BASE_URL)
if _base.scheme not in ("http", "https") or not _base.hostname or any(_base[2:]):
    raise ImproperlyConfigured(
        f"NARVARO_BASE_URL={NARVARO_BASE_URL!r} must be an http:// or https:// address "
        "with no path, e.g. https://narvaro.example.se"
    )
ORGANISATION_NAME = env.str("NARVARO_ORGANISATION_NAME", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "narvaro.core",
    "narvaro.organisation",
    "narvaro.channels",
    "narvaro.archive",
    "narvaro.radar",
    "narvaro.inbox",
    "narvaro.retention",
    "narvaro.disclosure",
    "narvaro.packages",
    "narvaro.moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "narvaro.core.middleware.HtmxSignInMiddleware",
    "narvaro.core.middleware.OrganisationLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "narvaro.core.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # AxesMiddleware must be last: it turns lockouts into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "narvaro.config.urls"
FORM_RENDERER = "narvaro.core.forms.NarvaroFormRenderer"
WSGI_APPLICATION = "narvaro.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "narvaro.core.context_processors.shell",
            ],
        },
    }
]

# Database: SQLite in NARVARO_HOME by default; NARVARO_DATABASE_URL=postgres://... for PostgreSQL.
_database_url = (
    env_secret("NARVARO_DATABASE_URL") or f"sqlite:///{NARVARO_HOME / 'narvaro.sqlite3'}"
)
DATABASES = {"default": environ.Env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE transactions and a busy
    # timeout turn lock contention into waiting instead of "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
):
    raise ImproperlyConfigured(
        "NARVARO_DATABASE_URL must be a sqlite:// or postgres:// URL, "
        f"not {DATABASES['default']['ENGINE']}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:overview"
LOGOUT_REDIRECT_URL = "core:login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("NARVARO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("NARVARO_LOGIN_COOLOFF_HOURS", 0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "narvaro.lib.net.client_ip"

# Two-factor authentication is required for these organisation-wide roles (R5).
NARVARO_2FA_REQUIRED_ROLES = env.list("NARVARO_2FA_REQUIRED_ROLES", default=["admin", "registrar"])
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = ORGANISATION_NAME or "Narvaro"

LANGUAGE_CODE = env.str("NARVARO_LANGUAGE", default="sv")
if LANGUAGE_CODE not in ("sv", "en"):
    raise ImproperlyConfigured(f"NARVARO_LANGUAGE={LANGUAGE_CODE!r}: use 'sv' or 'en'")
# Follow the browser's language instead of NARVARO_LANGUAGE for people who have not chosen.
NARVARO_BROWSER_LANGUAGE = env_bool("NARVARO_BROWSER_LANGUAGE", False)
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env.str("NARVARO_TIME_ZONE", default="Europe/Stockholm")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"NARVARO_TIME_ZONE={TIME_ZONE!r} is not a known time zone")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = NARVARO_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Front-end packages come from npm (package.json + lock file), never copied by hand.
NODE_MODULES = Path(env.str("NARVARO_NODE_MODULES", default=str(REPO_DIR / "node_modules")))
STATICFILES_DIRS = [
    ("vendor/designsystemet", NODE_MODULES / "@digdir/designsystemet-css/dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org/dist"),
    # Inter, the typeface Designsystemet's theme names, served from here (the CSP allows no
    # other origin, and a public-sector service should not call a font CDN anyway).
    ("vendor/inter", NODE_MODULES / "@fontsource/inter/files"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = NARVARO_HOME / "media"
MEDIA_URL = "media/"

# Background work: Django's Tasks API (django-tasks backport) on the database backend.
TASKS = {
    "default": {
        "BACKEND": env.str("NARVARO_TASK_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

_email = environ.Env.email_url_config(env_secret("NARVARO_EMAIL_URL") or "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
DEFAULT_FROM_EMAIL = env.str("NARVARO_DEFAULT_FROM_EMAIL", default="narvaro@localhost")

# Security headers. Cookies are secure whenever we are not in debug mode.
SESSION_COOKIE_SECURE = env_bool("NARVARO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("NARVARO_SESSION_AGE_SECONDS", 8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("NARVARO_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("NARVARO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("NARVARO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("NARVARO_HSTS_PRELOAD", False)
BEHIND_PROXY = env_bool("NARVARO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies append to X-Forwarded-For in front of Narvaro (see lib/net.py).
NARVARO_PROXY_COUNT = env_int("NARVARO_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
if NARVARO_PROXY_COUNT < 0:
    raise ImproperlyConfigured("NARVARO_PROXY_COUNT must be 0 or more")

# Live channels: seconds between two harvests of a connected account (at least 30), and whether a
# Bluesky harvest reads notifications through the PDS's AppView (replies and mentions by others).
NARVARO_HARVEST_INTERVAL = env_int("NARVARO_HARVEST_INTERVAL", 300)
if NARVARO_HARVEST_INTERVAL < 30:
    raise ImproperlyConfigured("NARVARO_HARVEST_INTERVAL must be at least 30 (seconds)")
NARVARO_BLUESKY_NOTIFICATIONS = env_bool("NARVARO_BLUESKY_NOTIFICATIONS", True)
# Whether `narvaro channels stream` may hold the Mastodon user streams open (near-real-time
# capture; the scheduled harvests stay the fallback).
NARVARO_MASTODON_STREAMING = env_bool("NARVARO_MASTODON_STREAMING", False)

# The records search page counts matches exactly up to this many, then says "more than".
NARVARO_RESULT_COUNT_CAP = env_int("NARVARO_RESULT_COUNT_CAP", 10_000)
if NARVARO_RESULT_COUNT_CAP < 1:
    raise ImproperlyConfigured("NARVARO_RESULT_COUNT_CAP must be 1 or more")

# The inbox: an item already this many days old when captured (an import of history) opens a
# closed conversation instead of a new one, so importing a year of replies does not flood it.
NARVARO_INBOX_HISTORY_DAYS = env_int("NARVARO_INBOX_HISTORY_DAYS", 14)
if NARVARO_INBOX_HISTORY_DAYS < 0:
    raise ImproperlyConfigured("NARVARO_INBOX_HISTORY_DAYS must be 0 or more")

# The critique radar (narvaro.radar): the statistical test's sensitivity (a p-value), the fewest
# items (and critical items) an alert needs, the window observed, the history the expectation
# comes from, how long a burst may pause and still be the same alert, and how often it runs.
NARVARO_RADAR_SENSITIVITY = env_float("NARVARO_RADAR_SENSITIVITY", 0.001)
if not 0 < NARVARO_RADAR_SENSITIVITY < 1:
    raise ImproperlyConfigured("NARVARO_RADAR_SENSITIVITY must be between 0 and 1")
NARVARO_RADAR_MIN_COUNT = env_int("NARVARO_RADAR_MIN_COUNT", 10)
NARVARO_RADAR_MIN_CRITIQUE = env_int("NARVARO_RADAR_MIN_CRITIQUE", 5)
NARVARO_RADAR_WINDOW_MINUTES = env_int("NARVARO_RADAR_WINDOW_MINUTES", 60)
NARVARO_RADAR_HISTORY_WEEKS = env_int("NARVARO_RADAR_HISTORY_WEEKS", 8)
NARVARO_RADAR_QUIET_HOURS = env_float("NARVARO_RADAR_QUIET_HOURS", 3.0)
NARVARO_RADAR_EVALUATE_MINUTES = env_int("NARVARO_RADAR_EVALUATE_MINUTES", 10)
for _name in (
    "NARVARO_RADAR_MIN_COUNT",
    "NARVARO_RADAR_MIN_CRITIQUE",
    "NARVARO_RADAR_WINDOW_MINUTES",
    "NARVARO_RADAR_HISTORY_WEEKS",
    "NARVARO_RADAR_EVALUATE_MINUTES",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more")
# The classifier trains once it has this many labels; a JSON file may replace the sensitive-data
# keyword lists (R34); sensitive-data flags may also restrict access, like identity numbers do.
NARVARO_RADAR_MIN_LABELS = env_int("NARVARO_RADAR_MIN_LABELS", 20)
if NARVARO_RADAR_MIN_LABELS < 8:
    raise ImproperlyConfigured("NARVARO_RADAR_MIN_LABELS must be 8 or more")
# When a trained model comes into use, the items posted in this many days that the machine
# classified are read again by it (a category a person set is kept).
NARVARO_RADAR_RECLASSIFY_DAYS = env_int("NARVARO_RADAR_RECLASSIFY_DAYS", 90)
if NARVARO_RADAR_RECLASSIFY_DAYS < 0:
    raise ImproperlyConfigured("NARVARO_RADAR_RECLASSIFY_DAYS must be 0 or more")
NARVARO_RADAR_KEYWORDS_FILE = env.str("NARVARO_RADAR_KEYWORDS_FILE", default="")
NARVARO_RADAR_RESTRICT_SENSITIVE = env_bool("NARVARO_RADAR_RESTRICT_SENSITIVE", False)

# A strict Content Security Policy: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("NARVARO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
