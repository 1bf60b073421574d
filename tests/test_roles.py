"""Observers see everything and change nothing: every URL of the URLconf is checked, so a new
one cannot slip through. Every POST needs a CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from tests.test_foundation import iter_paths

pytestmark = pytest.mark.django_db

# Signing in and out is for everyone.
AUTH = {
    "/login/",
    "/logout/",
    "/healthz",
    # Session check, drafts and single sign-on (accounts/; tested in test_idle_logoff.py,
    # test_browser_sso.py).
    "/accounts/session/",
    "/accounts/drafts/save/",
    "/accounts/drafts/discard/",
    "/accounts/oidc/authenticate/",
    "/accounts/oidc/callback/",
}
# Pages an Observer may read: they answer GET only, so a POST is 405. The assignee type-ahead
# serves the worklist's assignee filter too, which is everyone's.
READ_ONLY = {
    "/studies/x/",
    "/studies/by-uid/x/",
    "/studies/lookup/",
    "/studies/assignees/",
    "/imports/export.csv",
    "/studies/pacs/",  # Find in PACS: Observers may search (issue 12)
    "/studies/pacs/in-pacs/",
    "/worklist/changes/",  # the live worklist's check (issue 16)
}
# Pages an Observer may read that also answer POST (for Coordinators only).
READ_AND_COORDINATOR_POST = {"/"}
# Every URL that changes something, as iter_paths writes it: a sanity check that the
# enumeration sees them all.
MUTATING = {
    "/",
    "/studies/new/",
    "/studies/x/edit/",
    "/studies/x/status/",
    "/studies/x/cancel/",
    "/studies/x/uncancel/",
    "/studies/x/open/",
    "/studies/unsent/1/retry/",
    "/studies/unsent/1/discard/",
    "/imports/new/",  # study imports
    "/imports/1/send/",
    "/imports/1/cancel/",
    "/studies/pacs/use/",
    "/studies/pacs/file/",
    "/worklist/panel/",  # the quick-create panel's open/closed (Coordinators only)
}


def app_paths() -> list[str]:
    return [path for path in iter_paths(get_resolver().url_patterns) if path not in AUTH]


def test_the_enumeration_sees_every_mutating_url() -> None:
    assert set(app_paths()) >= MUTATING


def test_an_observer_gets_403_for_every_post(observer_client: Client) -> None:
    for path in app_paths():
        response = observer_client.post(path, {"study_viewer_status": "complete"})
        expected = 405 if path in READ_ONLY else 403
        assert response.status_code == expected, path


def test_an_observer_gets_403_for_every_page_but_the_readable_ones(
    observer_client: Client,
) -> None:
    """Confirmation and edit pages (GET) are refused too; nothing reaches the API."""
    for path in app_paths():
        if path in READ_ONLY | READ_AND_COORDINATOR_POST:
            continue
        assert observer_client.get(path).status_code == 403, path


def test_every_post_needs_a_csrf_token(coordinator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    for path in app_paths():
        if path in READ_ONLY:
            continue
        response = client.post(path, {"study_viewer_status": "complete"})
        assert response.status_code == 403, path
        assert b"CSRF" in response.content, path
