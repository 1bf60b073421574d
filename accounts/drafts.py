"""Drafts: a half-filled create or edit form kept per coordinator and page, on the server.

A draft is written when the session runs out on a page in SIGN_IN_DRAFT_URL_NAMES: by the
page itself just before the deadline (static/js/session.js posts the form's fields), or from
a form posted after the deadline (accounts.idle). After signing in, the same page offers it
again ("Restore" fills the form, "Discard" drops it).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts.models import FormDraft

# Fields never kept: the CSRF token, and the form's one-time token (a restored draft is a new
# attempt, with the token of the page it is restored into).
SKIPPED_FIELDS = frozenset({"csrfmiddlewaretoken", "token", "action"})
MAX_FIELDS = 400
MAX_VALUE_LENGTH = 10_000
KEPT_FOR = timedelta(days=7)


def accepts_drafts(request: HttpRequest, path: str | None = None) -> bool:
    try:
        match = resolve(path or request.path)
    except Resolver404:
        return False
    return match.url_name in settings.SIGN_IN_DRAFT_URL_NAMES


DRAFT_SAVE_PATH = "/accounts/drafts/save/"
PATH_FIELD = "_draft_path"


def capture(request: HttpRequest) -> FormDraft | None:
    """Keep what a post carries as a draft: a create or edit form posted to its own page, or
    the page's background draft save (DRAFT_SAVE_PATH, the page named in PATH_FIELD)."""
    path = request.path
    if path == DRAFT_SAVE_PATH:
        path = request.POST.get(PATH_FIELD, "")
    if not path.startswith("/") or not accepts_drafts(request, path):
        return None
    data = request.POST.copy()
    data.pop(PATH_FIELD, None)
    if not isinstance(request.user, User):
        return None
    return save(request.user, path, data)


def save(user: User, path: str, data: QueryDict) -> FormDraft:
    fields: dict[str, list[str]] = {}
    for name in list(data.keys())[:MAX_FIELDS]:
        if name in SKIPPED_FIELDS:
            continue
        fields[name[:200]] = [value[:MAX_VALUE_LENGTH] for value in data.getlist(name)]
    draft, _ = FormDraft.objects.update_or_create(user=user, path=path, defaults={"data": fields})
    return draft


def for_page(user: User, path: str) -> FormDraft | None:
    """The user's draft of `path` that is still kept, if any. One query reads it together
    with the user's expired drafts, which are deleted only when there are some (rarely:
    the page's GET costs no write)."""
    cutoff = timezone.now() - KEPT_FOR
    found = list(FormDraft.objects.filter(Q(path=path) | Q(saved_at__lt=cutoff), user=user))
    expired = [draft.pk for draft in found if draft.saved_at < cutoff]
    if expired:
        FormDraft.objects.filter(pk__in=expired, saved_at__lt=cutoff).delete()
    return next((d for d in found if d.path == path and d.saved_at >= cutoff), None)


def discard(user: User, path: str) -> None:
    FormDraft.objects.filter(user=user, path=path).delete()
