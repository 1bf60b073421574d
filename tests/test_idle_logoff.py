"""Automatic log-off after inactivity, enforced by the server; background requests never
extend a session; a form posted after the deadline is kept as a draft."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.idle import LAST_ACTIVITY_KEY
from accounts.models import FormDraft, SignInEvent
from tests.pages import html

pytestmark = pytest.mark.django_db

IDLE_SECONDS = 15 * 60
PAGE = "/studies/unsent/"  # a page that needs no Viewer API call


def set_idle_for(client: Client, seconds: float) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - seconds
    session.save()


def last_activity(client: Client) -> float:
    return float(client.session[LAST_ACTIVITY_KEY])


def test_a_session_idle_past_the_limit_is_signed_out_and_sent_back_after_sign_in(
    coordinator_client: Client, coordinator: User
) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS + 1)
    response = coordinator_client.get("/studies/lookup/?uid=1.2.3")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/studies/lookup/%3Fuid%3D1.2.3"
    assert "_auth_user_id" not in coordinator_client.session
    event = SignInEvent.objects.exclude(kind=SignInEvent.Kind.SIGN_IN).get()
    assert (event.kind, event.user, event.ip_address) == (
        SignInEvent.Kind.IDLE_LOGOFF,
        coordinator,
        "127.0.0.1",
    )
    login = coordinator_client.get(response["Location"])
    assert "signed out after 15 minutes without activity" in html(login)


def test_a_session_just_inside_the_limit_stays_and_a_real_request_extends_it(
    coordinator_client: Client,
) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS - 5)
    assert coordinator_client.get(PAGE).status_code == 200
    assert time.time() - last_activity(coordinator_client) < 5


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/accounts/session/", {}),
        ("/", {"HTTP_X_BACKGROUND": "true", "HTTP_HX_REQUEST": "true"}),
    ],
)
def test_background_requests_never_extend_the_session(
    coordinator_client: Client, path: str, headers: dict[str, str]
) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS - 60)
    before = last_activity(coordinator_client)
    response = coordinator_client.get(path, **headers)
    assert response.status_code == 200
    assert last_activity(coordinator_client) == before
    if path == "/accounts/session/":
        assert response.json()["signedIn"] is True
        assert 55 <= response.json()["secondsLeft"] <= 60


def test_stay_signed_in_extends_the_session(coordinator_client: Client) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS - 30)
    response = coordinator_client.post("/accounts/session/")
    assert response.json() == {"signedIn": True, "secondsLeft": IDLE_SECONDS}


def test_a_background_check_after_the_deadline_signs_out(coordinator_client: Client) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS + 1)
    response = coordinator_client.get("/accounts/session/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert SignInEvent.objects.filter(kind=SignInEvent.Kind.IDLE_LOGOFF).count() == 1


def test_an_htmx_request_after_the_deadline_goes_to_sign_in_and_back(
    coordinator_client: Client,
) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS + 1)
    response = coordinator_client.get(
        "/?q=x",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/studies/new/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/studies/new/"


def test_the_idle_limit_comes_from_settings(coordinator_client: Client, settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES = 0.5
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, 31)
    assert coordinator_client.get(PAGE).status_code == 302


CREATE_POST = {
    "severity": "high",
    "study_description": "Half-filled description",
    "study_instance_uid": "",
    "token": "11111111-2222-3333-4444-555555555555",
    "metadata-TOTAL_FORMS": "1",
    "metadata-INITIAL_FORMS": "0",
    "metadata-0-key": "ward",
    "metadata-0-value": "ED",
    "action": "create",
}


def test_a_create_form_posted_after_the_deadline_is_kept_and_offered_after_sign_in(
    coordinator: User,
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    page = client.get(reverse("study_create"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html(page)).group(1)
    set_idle_for(client, IDLE_SECONDS + 1)
    response = client.post(reverse("study_create"), {**CREATE_POST, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/studies/new/"
    draft = FormDraft.objects.get(user=coordinator, path="/studies/new/")
    assert draft.data["study_description"] == ["Half-filled description"]
    assert draft.data["metadata-0-key"] == ["ward"]
    assert "token" not in draft.data
    assert "csrfmiddlewaretoken" not in draft.data

    client.force_login(coordinator)
    offered = html(client.get(reverse("study_create")))
    assert "You have a draft of this form" in offered
    data = re.search(r'<script id="draft-data" type="application/json">(.*?)</script>', offered)
    assert json.loads(data.group(1))["study_description"] == ["Half-filled description"]
    # Another coordinator is offered nothing.
    other = User.objects.create_user("other-coordinator")
    other.groups.set(coordinator.groups.all())
    client.force_login(other)
    assert "You have a draft of this form" not in html(client.get(reverse("study_create")))


def test_a_post_that_fails_the_csrf_check_leaves_no_draft(coordinator: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    client.get(reverse("study_create"))
    set_idle_for(client, IDLE_SECONDS + 1)
    client.post(reverse("study_create"), CREATE_POST)
    assert not FormDraft.objects.exists()


def test_the_page_saves_and_discards_its_draft_in_the_background(
    coordinator_client: Client, coordinator: User
) -> None:
    coordinator_client.get(PAGE)
    set_idle_for(coordinator_client, IDLE_SECONDS - 60)
    before = last_activity(coordinator_client)
    saved = coordinator_client.post(
        "/accounts/drafts/save/",
        {"_draft_path": "/studies/new/", "study_description": "Typed"},
        HTTP_X_BACKGROUND="true",
    )
    assert saved.status_code == 200
    assert last_activity(coordinator_client) == before
    assert FormDraft.objects.get().data == {"study_description": ["Typed"]}
    refused = coordinator_client.post("/accounts/drafts/save/", {"_draft_path": "/"})
    assert refused.status_code == 400
    coordinator_client.post("/accounts/drafts/discard/", {"_draft_path": "/studies/new/"})
    assert not FormDraft.objects.exists()


def test_pages_carry_the_idle_limits_for_the_warning(coordinator_client: Client) -> None:
    page = html(coordinator_client.get(PAGE))
    assert 'data-session-idle="900"' in page
    assert 'data-session-warning="60"' in page
    assert "js/session.js" in page
    assert "<script>" not in page
