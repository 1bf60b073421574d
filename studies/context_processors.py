from __future__ import annotations

from django.http import HttpRequest

from studies.roles import can_manage_studies


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the base template's header needs on every page."""
    user = getattr(request, "user", None)
    return {"can_manage_studies": bool(user and can_manage_studies(user))}
