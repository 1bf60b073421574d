"""Bearer-key authentication and clinic scoping (§1.2, §12.20).

The key the sandbox accepts in local mode is the app's own `settings.VIEWER_API_KEY`, read on
every request; its row (and so its clinic, `DEFAULT_CLINIC_ID`) is created on first use. Further
keys are `SandboxApiKey` rows (see `sandbox.factories.make_api_key`). Keys are never logged, and
only their SHA-256 hashes are stored.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest

from sandbox.errors import Unauthorized
from sandbox.models import DEFAULT_CLINIC_ID, SandboxApiKey

SETTINGS_KEY_DESCRIPTION = "Viewer Admin"


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(_bytes(raw_key)).hexdigest()


def settings_key() -> SandboxApiKey | None:
    """The row of the configured VIEWER_API_KEY, created on demand in the default clinic."""
    raw_key: str = settings.VIEWER_API_KEY
    if not raw_key:
        return None
    key, _ = SandboxApiKey.objects.get_or_create(
        key_hash=hash_key(raw_key),
        defaults={
            "description": SETTINGS_KEY_DESCRIPTION,
            "clinic_id": DEFAULT_CLINIC_ID,
            "from_settings": True,
        },
    )
    return key


def bearer_token(request: HttpRequest) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when missing or malformed."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        return None
    return token


def authenticate(request: HttpRequest) -> SandboxApiKey:
    """The calling key, or 401 `unauthorized` (§12.1, §12.20)."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized
    configured: str = settings.VIEWER_API_KEY
    if configured and hmac.compare_digest(_bytes(token), _bytes(configured)):
        key = settings_key()
        if key is not None:
            return key
    key = SandboxApiKey.objects.filter(key_hash=hash_key(token), from_settings=False).first()
    if key is None:
        raise Unauthorized
    return key
