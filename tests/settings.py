"""Settings for the test run (pytest's DJANGO_SETTINGS_MODULE): the project's settings, with
what only slows tests down taken out.

Processes that tests start (app instances, task workers, `manage.py` runs, fresh-settings
reads) use `viewer_admin.settings` as a deployment would.
"""

from viewer_admin.settings import *  # noqa: F403 - the project's settings, then overrides
from viewer_admin.settings import REDIS_URL

# Hashing at the production cost makes every test user and every sign-in slow. Django tests its
# own hashers; tests/test_sign_in_security.py tests sign-in itself.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A local-memory cache (shared by the live server's threads) instead of the database cache,
# whose table a transactional test's flush leaves alone. A run with REDIS_URL (script/test's
# PostgreSQL + Redis run) keeps Redis, the production cache, for the whole suite;
# tests/test_cache.py switches to the database cache and to Redis explicitly.
if not REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "viewer-admin-tests",
            "KEY_PREFIX": "viewer-admin",
        }
    }
