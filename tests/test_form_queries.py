"""The database work of the form pages: the draft a create or edit page offers is read in one
query (expired drafts are deleted only when there are some), and the quick-create's htmx
answer updates the header's unsent count only when the attempt may have changed it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.drafts import KEPT_FOR
from accounts.models import FormDraft
from sandbox.factories import random_uid
from sandbox.models import SandboxStudy
from studies.models import Submission
from tests.conftest import SandboxFaults
from tests.pages import html

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quick-create"}
NAV_UNSENT_OOB = '<span id="nav-unsent" class="site-nav__item" hx-swap-oob="true">'


def draft_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "accounts_formdraft" in q["sql"]]


def backdate(draft: FormDraft, age: timedelta) -> None:
    FormDraft.objects.filter(pk=draft.pk).update(saved_at=timezone.now() - age)


def test_the_create_page_reads_its_draft_in_one_query(
    coordinator_client: Client, coordinator: User
) -> None:
    path = reverse("study_create")
    FormDraft.objects.create(user=coordinator, path=path, data={"study_description": ["Kept"]})
    with CaptureQueriesContext(connection) as queries:
        page = html(coordinator_client.get(path))
    assert "You have a draft of this form" in page
    assert len(draft_queries(queries)) == 1
    assert FormDraft.objects.count() == 1


def test_expired_drafts_are_deleted_and_never_offered(
    coordinator_client: Client, coordinator: User
) -> None:
    path = reverse("study_create")
    here = FormDraft.objects.create(user=coordinator, path=path, data={"x": ["1"]})
    elsewhere = FormDraft.objects.create(user=coordinator, path="/studies/x/edit/", data={})
    other = User.objects.create_user("someone-else")
    theirs = FormDraft.objects.create(user=other, path=path, data={})
    for draft in (here, elsewhere, theirs):
        backdate(draft, KEPT_FOR + timedelta(minutes=1))
    page = html(coordinator_client.get(path))
    assert "You have a draft of this form" not in page
    # The coordinator's expired drafts are gone; another user's are not theirs to delete.
    assert list(FormDraft.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_a_draft_within_the_kept_time_is_offered(
    coordinator_client: Client, coordinator: User
) -> None:
    path = reverse("study_create")
    draft = FormDraft.objects.create(user=coordinator, path=path, data={"x": ["1"]})
    backdate(draft, KEPT_FOR - timedelta(minutes=1))
    assert "You have a draft of this form" in html(coordinator_client.get(path))
    assert FormDraft.objects.filter(pk=draft.pk).exists()


def quick_form(uid: str, token: str | None = None) -> dict[str, str]:
    fields = {
        "token": token or str(uuid.uuid4()),
        "severity": "high",
        "study_description": "MR Brain",
        "study_instance_uid": uid,
        "assignee_query": "",
        "assigned_to": "",
    }
    return {**{f"quick-{name}": value for name, value in fields.items()}, "action": "create"}


def unsent_counts(queries: CaptureQueriesContext) -> int:
    return len(
        [
            q
            for q in queries.captured_queries
            if "COUNT(" in q["sql"] and "studies_submission" in q["sql"]
        ]
    )


def test_a_quick_create_made_at_once_leaves_the_unsent_count_alone(
    coordinator_client: Client, sandbox_url: str
) -> None:
    uid = random_uid()
    with CaptureQueriesContext(connection) as queries:
        fragment = html(coordinator_client.post("/", quick_form(uid), **HTMX))
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1
    assert 'hx-swap-oob="afterbegin:#worklist-rows"' in fragment
    assert NAV_UNSENT_OOB not in fragment
    assert unsent_counts(queries) == 0


def test_a_quick_create_that_is_not_sent_updates_the_count_and_its_retry_clears_it(
    coordinator_client: Client, sandbox_faults: SandboxFaults
) -> None:
    uid = random_uid()
    data = quick_form(uid)
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="POST", count=5)
    fragment = html(coordinator_client.post("/", data, **HTMX))
    sandbox_faults.clear()
    assert Submission.objects.get(study_instance_uid=uid).status == Submission.Status.UNSENT
    assert NAV_UNSENT_OOB in fragment
    assert 'Unsent <span class="count-badge">1</span>' in fragment

    # The same form sent again (same token) creates the study: the count goes back to none.
    again = html(coordinator_client.post("/", data, **HTMX))
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1
    assert f"{NAV_UNSENT_OOB}</span>" in again
    assert "count-badge" not in again


def test_a_quick_create_with_an_input_error_sends_nothing_and_counts_nothing(
    coordinator_client: Client, sandbox_url: str
) -> None:
    with CaptureQueriesContext(connection) as queries:
        fragment = html(coordinator_client.post("/", quick_form("not-a-uid"), **HTMX))
    assert "errorlist" in fragment
    assert NAV_UNSENT_OOB not in fragment
    assert unsent_counts(queries) == 0
