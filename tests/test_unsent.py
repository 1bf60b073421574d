"""Unsent create attempts: listed for their coordinator, retried (never a second study) and
discarded; the navigation counts them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import AuditEntry, Submission
from tests.conftest import SandboxFaults, make_user
from tests.form_data import create_form_data
from tests.pages import html

pytestmark = pytest.mark.django_db(transaction=True)
STUDIES = "/v1/viewer/studies"


def form_post(uid: str, **overrides: str) -> dict[str, str]:
    return create_form_data(
        [("ward", "ED"), ("bed", "4")],
        **{
            "severity": "stat",
            "study_description": "CT Head",
            "study_instance_uid": uid,
            **overrides,
        },
    )


@pytest.fixture
def unsent(
    coordinator_client: Client, sandbox_faults: SandboxFaults, sandbox_factory: SandboxFactory
) -> Submission:
    """A create attempt made while the API answered 503."""
    sandbox_faults.arm("status", status=503, path=STUDIES, method="POST", count=5)
    uid = random_uid()
    response = coordinator_client.post("/studies/new/", form_post(uid))
    assert response.status_code == 200
    sandbox_faults.clear()
    submission = Submission.objects.get(study_instance_uid=uid)
    assert submission.status == Submission.Status.UNSENT
    return submission


def test_the_page_lists_what_was_typed(coordinator_client: Client, unsent: Submission) -> None:
    response = coordinator_client.get("/studies/unsent/")
    assert response.status_code == 200
    page = html(response)
    assert "CT Head" in page
    assert unsent.study_instance_uid in page
    assert '<span class="badge badge--stat">STAT</span>' in page
    assert "2 pairs" in page
    assert '<th scope="row">ward</th><td>ED</td>' in page
    assert "not responding" in page
    assert f'action="/studies/unsent/{unsent.pk}/retry/"' in page
    assert f'href="/studies/unsent/{unsent.pk}/discard/"' in page  # asks first


def test_the_navigation_counts_unsent_attempts(
    coordinator_client: Client, unsent: Submission, sandbox_url: str
) -> None:
    page = html(coordinator_client.get("/studies/unsent/"))
    assert 'Unsent <span class="count-badge">1</span>' in page
    Submission.objects.filter(pk=unsent.pk).update(status=Submission.Status.DISCARDED)
    page = html(coordinator_client.get("/studies/unsent/"))
    assert "count-badge" not in page
    assert "Nothing is waiting to be sent." in page


def test_the_count_is_one_query_and_only_for_coordinators(
    coordinator_client: Client, observer: User, unsent: Submission
) -> None:
    with CaptureQueriesContext(connection) as queries:
        coordinator_client.get("/studies/unsent/")
    sql = [q["sql"] for q in queries]
    assert len([q for q in sql if "COUNT(" in q and "studies_submission" in q]) == 1
    Submission.objects.create(
        created_by=observer, status=Submission.Status.UNSENT, study_instance_uid="1.2", payload={}
    )
    coordinator_client.force_login(observer)
    with CaptureQueriesContext(connection) as queries:
        page = html(coordinator_client.get("/studies/lookup/", {"uid": "1.02"}))
    assert "count-badge" not in page
    assert not [q for q in queries if "studies_submission" in q["sql"]]


def test_retry_after_the_api_is_back_creates_exactly_one_study(
    coordinator_client: Client, unsent: Submission, coordinator: User
) -> None:
    response = coordinator_client.post(f"/studies/unsent/{unsent.pk}/retry/")
    assert response.status_code == 302
    studies = SandboxStudy.objects.filter(study_instance_uid=unsent.study_instance_uid)
    assert studies.count() == 1
    study = studies.get()
    assert response["Location"] == f"/studies/{study.study_id}/"
    assert study.metadata == {"ward": "ED", "bed": "4"}
    unsent.refresh_from_db()
    assert unsent.status == Submission.Status.CREATED
    assert unsent.study_id == study.study_id
    creates = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE).order_by("id")
    assert [entry.outcome for entry in creates] == [
        AuditEntry.Outcome.FAILURE,
        AuditEntry.Outcome.SUCCESS,
    ]
    assert all(entry.user == coordinator for entry in creates)

    # A second click (a stale page) leads to the same study and creates nothing more.
    again = coordinator_client.post(f"/studies/unsent/{unsent.pk}/retry/")
    assert again["Location"] == f"/studies/{study.study_id}/"
    assert studies.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE).count() == 2


def test_retry_when_the_uid_exists_links_that_study(
    coordinator_client: Client, unsent: Submission, sandbox_factory: SandboxFactory
) -> None:
    existing = sandbox_factory.study(study_instance_uid=unsent.study_instance_uid)
    response = coordinator_client.post(f"/studies/unsent/{unsent.pk}/retry/")
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{existing.study_id}/"
    assert SandboxStudy.objects.filter(study_instance_uid=unsent.study_instance_uid).count() == 1
    page = html(coordinator_client.get(response["Location"]))
    assert "already exists, so nothing new was created" in page


def test_an_attempt_that_did_create_its_study_is_not_created_twice(
    coordinator_client: Client, sandbox_faults: SandboxFaults
) -> None:
    """The API created the study but its answer was lost, and the look-up that would have
    found it failed too: the attempt is unconfirmed. Retrying finds the study instead."""
    sandbox_faults.arm("commit_then_fail", mode="status", path=STUDIES, method="POST")
    sandbox_faults.arm("status", status=503, path=f"{STUDIES}/by-uid", method="GET", count=20)
    uid = random_uid()
    coordinator_client.post("/studies/new/", form_post(uid))
    sandbox_faults.clear()
    submission = Submission.objects.get(study_instance_uid=uid)
    assert submission.status == Submission.Status.UNCONFIRMED
    created = SandboxStudy.objects.get(study_instance_uid=uid)

    response = coordinator_client.post(f"/studies/unsent/{submission.pk}/retry/")
    assert response["Location"] == f"/studies/{created.study_id}/"
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1


def test_retry_while_the_api_is_still_down_keeps_it_unsent(
    coordinator_client: Client, unsent: Submission, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, path=STUDIES, method="POST", count=5)
    response = coordinator_client.post(f"/studies/unsent/{unsent.pk}/retry/", follow=True)
    page = html(response)
    assert "The study still could not be sent." in page
    assert unsent.study_instance_uid in page
    unsent.refresh_from_db()
    assert unsent.status == Submission.Status.UNSENT
    assert SandboxStudy.objects.count() == 0


def test_retry_rejected_by_the_api_says_why_and_links_the_form(
    coordinator_client: Client, unsent: Submission, sandbox_factory: SandboxFactory
) -> None:
    revoked = sandbox_factory.user(is_revoked=True)
    Submission.objects.filter(pk=unsent.pk).update(
        payload={**unsent.payload, "assignedTo": revoked.user_id}
    )
    response = coordinator_client.post(f"/studies/unsent/{unsent.pk}/retry/", follow=True)
    page = html(response)
    assert "The Viewer API did not accept this attempt" in page
    assert "access revoked" in page
    assert f'<a href="/studies/new/?token={unsent.token}&amp;severity=stat' in page
    assert SandboxStudy.objects.count() == 0


def test_discard_marks_it_discarded(coordinator_client: Client, unsent: Submission) -> None:
    response = coordinator_client.post(f"/studies/unsent/{unsent.pk}/discard/", follow=True)
    assert "The unsent study was discarded." in html(response)
    unsent.refresh_from_db()
    assert unsent.status == Submission.Status.DISCARDED
    # A retry from a stale page does not bring it back.
    coordinator_client.post(f"/studies/unsent/{unsent.pk}/retry/")
    unsent.refresh_from_db()
    assert unsent.status == Submission.Status.DISCARDED
    assert SandboxStudy.objects.count() == 0


def test_a_coordinator_cannot_see_or_touch_anothers_attempts(
    client: Client, unsent: Submission
) -> None:
    other = make_user("other-coordinator", "Coordinators")
    client.force_login(other)
    assert unsent.study_instance_uid not in html(client.get("/studies/unsent/"))
    retried = client.post(f"/studies/unsent/{unsent.pk}/retry/", follow=True)
    assert "no longer in the unsent list" in html(retried)
    client.post(f"/studies/unsent/{unsent.pk}/discard/")
    unsent.refresh_from_db()
    assert unsent.status == Submission.Status.UNSENT
    assert SandboxStudy.objects.count() == 0


def test_retry_is_post_only_and_discard_asks_first(
    coordinator_client: Client, unsent: Submission, sandbox_url: str
) -> None:
    assert coordinator_client.get(f"/studies/unsent/{unsent.pk}/retry/").status_code == 405
    confirm = coordinator_client.get(f"/studies/unsent/{unsent.pk}/discard/")
    assert confirm.status_code == 200
    assert f'action="/studies/unsent/{unsent.pk}/discard/"' in html(confirm)
    unsent.refresh_from_db()
    assert unsent.status == Submission.Status.UNSENT
