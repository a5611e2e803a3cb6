"""Test settings: the production module plus fast hashing, immediate tasks and locmem cache.

NARVARO_DATABASE_URL still decides the engine, so the same suite runs on SQLite and PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("NARVARO_HOME", tempfile.mkdtemp(prefix="narvaro-test-"))
os.environ.setdefault("NARVARO_SECRET_KEY", "test-secret-key-not-for-production")

from narvaro.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"
AXES_ENABLED = True
# Browser tests run over plain http on localhost.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
