from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts import drafts, idle


def sign_in(request: HttpRequest) -> dict[str, object]:
    """What accounts/_session.html needs: the idle limits, and a draft this page offers."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    offer = None
    if request.method == "GET" and drafts.accepts_drafts(request):
        offer = drafts.for_page(user, request.path)
    return {
        "session_idle_seconds": round(idle.idle_seconds()),
        "session_warning_seconds": round(
            min(settings.SESSION_IDLE_WARNING_SECONDS, idle.idle_seconds() / 2)
        ),
        "draft_offer": offer,
        "drafts_here": drafts.accepts_drafts(request),
    }
