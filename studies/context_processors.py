from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from studies.roles import can_manage_studies
from studies.submissions import unsent_count


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the base template's header needs on every page.

    `unsent_count` is the signed-in coordinator's number of unsent create attempts: one COUNT
    query, run only when a template asks for it (and at most once per request)."""
    user = getattr(request, "user", None)
    manage = bool(user and can_manage_studies(user))

    @cache
    def count() -> int:
        return unsent_count(user=user) if manage and user is not None else 0

    return {"can_manage_studies": manage, "unsent_count": count}
