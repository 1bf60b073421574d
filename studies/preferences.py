"""What the worklist remembers per coordinator: the last filters and the quick-create panel.

Stored in the database (`WorklistPreference`, one row per person), so they come back on the
next visit from any browser; a copy lives in the session, so that a worklist render reads no
extra row. Also "Assigned to me": the Viewer user whose email is the coordinator's, looked up
once in a while (cached in the session).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Final

from django.http import HttpRequest

from studies import viewer_api
from studies.http import AuthenticatedRequest
from studies.models import WorklistPreference

_SESSION_KEY: Final = "worklist_preference"
_ME_KEY: Final = "worklist_viewer_user"
# How long the "Assigned to me" look-up is trusted before it is made again.
_ME_SECONDS: Final = 600


@dataclass(frozen=True)
class Preference:
    filters: str = ""
    quick_create_open: bool = False


def load(request: AuthenticatedRequest) -> Preference:
    kept = request.session.get(_SESSION_KEY)
    if isinstance(kept, dict):
        return Preference(
            filters=str(kept.get("filters", "")),
            quick_create_open=bool(kept.get("quick_create_open")),
        )
    row = WorklistPreference.objects.filter(user=request.user).first()
    preference = (
        Preference(filters=row.filters, quick_create_open=row.quick_create_open)
        if row
        else Preference()
    )
    request.session[_SESSION_KEY] = asdict(preference)
    return preference


def save(
    request: AuthenticatedRequest,
    *,
    filters: str | None = None,
    quick_create_open: bool | None = None,
) -> None:
    """Remember what changed (nothing is written when nothing did)."""
    old = load(request)
    new = Preference(
        filters=old.filters if filters is None else filters,
        quick_create_open=old.quick_create_open if quick_create_open is None else quick_create_open,
    )
    if new == old:
        return
    if not WorklistPreference.objects.filter(user=request.user).update(**asdict(new)):
        WorklistPreference.objects.create(user=request.user, **asdict(new))
    request.session[_SESSION_KEY] = asdict(new)


def my_viewer_user_id(request: HttpRequest) -> str | None:
    """The Viewer user with the signed-in person's email, or None (no email, no such user,
    or the API cannot say right now)."""
    email = (getattr(request.user, "email", "") or "").strip()
    if not email:
        return None
    kept = request.session.get(_ME_KEY)
    if (
        isinstance(kept, dict)
        and kept.get("email") == email
        and time.time() - float(kept.get("at", 0)) < _ME_SECONDS
    ):
        return str(kept.get("user_id") or "") or None
    try:
        users = viewer_api.user_search(query=email, limit=1)
    except viewer_api.ViewerAPIError:
        return None
    user_id = next((u.user_id for u in users if u.email.lower() == email.lower()), "")
    request.session[_ME_KEY] = {"email": email, "user_id": user_id, "at": time.time()}
    return user_id or None
