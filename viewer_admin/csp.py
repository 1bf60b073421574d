"""The project's Content-Security-Policy, built in one place (settings and tests use it)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """`https://api.example.com/v1` → `https://api.example.com` ("" when it has no host)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(*, form_action: Iterable[str] = ()) -> str:
    """Scripts, styles and everything else from our own origin only (no 'unsafe-inline').

    `form_action` adds origins a form post may end up on: "Open in Viewer" posts to our own
    URL, which redirects to the Viewer's one-off link, and browsers check that redirect against
    `form-action` too.
    """
    extra = " ".join(dict.fromkeys(origin for origin in form_action if origin))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {extra}".strip(),
            "frame-ancestors 'none'",
        ]
    )
