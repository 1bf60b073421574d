from __future__ import annotations

from functools import cache

from django.http import HttpRequest

from studies.roles import can_manage_studies
from studies.submissions import unsent_count


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the base template's header needs on every page.

    Both are worked out only when a template asks for them, and at most once per request, so
    a fragment that shows neither (a type-ahead answer) costs no query: `can_manage_studies`
    (the permission check, one query) and `unsent_count`, the signed-in coordinator's number
    of unsent create attempts (one COUNT query)."""
    user = getattr(request, "user", None)

    @cache
    def manage() -> bool:
        return bool(user and can_manage_studies(user))

    @cache
    def count() -> int:
        return unsent_count(user=user) if manage() and user is not None else 0

    return {"can_manage_studies": manage, "unsent_count": count}
