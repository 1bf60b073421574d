"""The create code path: one attempt per form token, recorded before the call, never twice."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from studies import submissions, viewer_api
from studies.models import AuditEntry, Submission
from studies.submissions import (
    AlreadyCreated,
    Created,
    Duplicate,
    Expired,
    InProgress,
    Rejected,
    Unsent,
    submission_create,
    submission_data,
    unsent_submissions,
)
from studies.viewer_api import Severity, Study, StudyCreate
from tests.conftest import make_user
from tests.viewer_api_fake import study_json

STUDY_ID = "stu_" + "1" * 32
DATA = StudyCreate(
    severity=Severity.STAT,
    study_description="CT Head",
    study_instance_uid="1.2.3.4",
    metadata={"ward": "ED"},
)


def a_study(study_id: str = STUDY_ID, uid: str = "1.2.3.4") -> Study:
    return Study.model_validate(study_json(studyId=study_id, studyInstanceUid=uid))


class FakeCreate:
    """Stands in for viewer_api.study_create (these tests are of the submissions service; the
    client's create is tested in tests/test_viewer_api.py) and remembers what it saw."""

    def __init__(self, result: Callable[[], Study]) -> None:
        self.result = result
        self.calls = 0
        self.seen_status: list[str] = []

    def __call__(self, *, data: StudyCreate) -> Study:
        self.calls += 1
        attempt = Submission.objects.get(study_instance_uid=data.study_instance_uid)
        self.seen_status.append(attempt.status)
        return self.result()


def install(monkeypatch: pytest.MonkeyPatch, result: Callable[[], Study]) -> FakeCreate:
    fake = FakeCreate(result)
    monkeypatch.setattr(viewer_api, "study_create", fake)
    return fake


def raising(error: Exception) -> Callable[[], Study]:
    def fail() -> Study:
        raise error

    return fail


@pytest.mark.django_db
def test_a_created_study_is_recorded_with_who_what_and_the_study(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    fake = install(monkeypatch, a_study)
    token = uuid.uuid4()
    outcome = submission_create(user=coordinator, token=token, data=DATA)
    assert isinstance(outcome, Created)
    assert outcome.study_id == STUDY_ID
    assert fake.seen_status == [Submission.Status.PENDING]  # recorded before the call
    attempt = Submission.objects.get(token=token)
    assert attempt.created_by == coordinator
    assert attempt.status == Submission.Status.CREATED
    assert attempt.study_id == STUDY_ID
    assert attempt.payload == DATA.wire()
    assert attempt.created_at is not None
    audit = AuditEntry.objects.get()
    assert audit.action == AuditEntry.Action.CREATE
    assert audit.outcome == AuditEntry.Outcome.SUCCESS
    assert audit.study_id == STUDY_ID
    assert audit.changed_fields == [
        "metadata",
        "severity",
        "study_description",
        "study_instance_uid",
    ]


@pytest.mark.django_db
def test_the_same_token_again_leads_to_the_study_already_created(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    fake = install(monkeypatch, a_study)
    token = uuid.uuid4()
    submission_create(user=coordinator, token=token, data=DATA)
    again = submission_create(user=coordinator, token=str(token), data=DATA)
    assert isinstance(again, AlreadyCreated)
    assert again.study_id == STUDY_ID
    assert fake.calls == 1
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_a_rejected_attempt_can_be_corrected_and_sent_with_the_same_token(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    error = viewer_api.InvalidRequest(
        "Invalid request.", field_errors={"assigned_to": ["User is revoked."]}
    )
    install(monkeypatch, raising(error))
    token = uuid.uuid4()
    outcome = submission_create(user=coordinator, token=token, data=DATA)
    assert isinstance(outcome, Rejected)
    assert outcome.error is error
    attempt = Submission.objects.get(token=token)
    assert attempt.status == Submission.Status.REJECTED
    assert "User is revoked." in attempt.error_message

    fake = install(monkeypatch, a_study)
    corrected = DATA.model_copy(update={"study_description": "CT Head, corrected"})
    outcome = submission_create(user=coordinator, token=token, data=corrected)
    assert isinstance(outcome, Created)
    assert fake.calls == 1
    attempt.refresh_from_db()
    assert attempt.status == Submission.Status.CREATED
    assert attempt.payload["studyDescription"] == "CT Head, corrected"
    assert attempt.error_message == ""


@pytest.mark.django_db
def test_a_duplicate_uid_points_at_the_existing_study(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    existing = a_study("stu_" + "2" * 32)
    install(monkeypatch, raising(viewer_api.Conflict("Duplicate.", existing=existing)))
    outcome = submission_create(user=coordinator, token=uuid.uuid4(), data=DATA)
    assert isinstance(outcome, Duplicate)
    assert outcome.existing.study_id == existing.study_id
    assert Submission.objects.get().status == Submission.Status.REJECTED


@pytest.mark.django_db
def test_another_conflict_is_a_rejection_with_the_api_message(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    install(monkeypatch, raising(viewer_api.Conflict("The customer is deactivated.")))
    outcome = submission_create(user=coordinator, token=uuid.uuid4(), data=DATA)
    assert isinstance(outcome, Rejected)
    assert outcome.error.message == "The customer is deactivated."


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        viewer_api.Unavailable(),
        viewer_api.RateLimited(retry_after=2),
        viewer_api.AuthError(),
        viewer_api.BadResponse(),
    ],
)
def test_an_unusable_api_keeps_the_attempt_as_unsent(
    monkeypatch: pytest.MonkeyPatch, coordinator: User, error: Exception
) -> None:
    install(monkeypatch, raising(error))
    token = uuid.uuid4()
    outcome = submission_create(user=coordinator, token=token, data=DATA)
    assert isinstance(outcome, Unsent)
    assert outcome.error is error
    attempt = Submission.objects.get(token=token)
    assert attempt.status == Submission.Status.UNSENT
    assert attempt.error_message == str(error)
    assert submission_data(attempt) == DATA
    assert unsent_submissions(user=coordinator) == [attempt]
    assert AuditEntry.objects.get().outcome == AuditEntry.Outcome.FAILURE


@pytest.mark.django_db
def test_an_unsent_attempt_sent_again_creates_one_study(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    install(monkeypatch, raising(viewer_api.Unavailable()))
    token = uuid.uuid4()
    submission_create(user=coordinator, token=token, data=DATA)
    attempt = Submission.objects.get(token=token)
    fake = install(monkeypatch, a_study)
    outcome = submission_create(user=coordinator, token=token, data=submission_data(attempt))
    assert isinstance(outcome, Created)
    assert fake.calls == 1
    assert unsent_submissions(user=coordinator) == []


@pytest.mark.django_db
def test_an_unexpected_error_never_leaves_the_attempt_sending(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    install(monkeypatch, raising(RuntimeError("bug")))
    with pytest.raises(RuntimeError):
        submission_create(user=coordinator, token=uuid.uuid4(), data=DATA)
    assert Submission.objects.get().status == Submission.Status.UNSENT


@pytest.mark.django_db
def test_an_attempt_still_sending_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    token = uuid.uuid4()
    Submission.objects.create(
        token=token, created_by=coordinator, study_instance_uid="1.2.3.4", payload={}
    )
    fake = install(monkeypatch, a_study)
    outcome = submission_create(user=coordinator, token=token, data=DATA, wait_seconds=0)
    assert isinstance(outcome, InProgress)
    assert fake.calls == 0


@pytest.mark.django_db
def test_an_abandoned_attempt_can_be_claimed_again(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    token = uuid.uuid4()
    stale = Submission.objects.create(
        token=token, created_by=coordinator, study_instance_uid="1.2.3.4", payload={}
    )
    old = stale.updated_at - submissions.stale_pending_after() - timedelta(seconds=1)
    Submission.objects.filter(pk=stale.pk).update(updated_at=old)
    fake = install(monkeypatch, a_study)
    outcome = submission_create(user=coordinator, token=token, data=DATA, wait_seconds=0)
    assert isinstance(outcome, Created)
    assert fake.calls == 1


@pytest.mark.django_db
def test_another_users_token_is_never_used(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    fake = install(monkeypatch, a_study)
    token = uuid.uuid4()
    submission_create(user=coordinator, token=token, data=DATA)
    other = make_user("other", "Coordinators")
    outcome = submission_create(user=other, token=token, data=DATA)
    assert isinstance(outcome, Expired)
    assert fake.calls == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_of_one_token_create_one_study(
    monkeypatch: pytest.MonkeyPatch, coordinator: User
) -> None:
    """The second request waits for the first and then leads to the same study."""
    release = threading.Event()
    started = threading.Event()
    calls: list[int] = []

    def slow_create(*, data: StudyCreate) -> Study:
        calls.append(1)
        started.set()
        assert release.wait(10)
        return a_study()

    polled = threading.Event()
    real_sleep = submissions._sleep

    def note_poll(seconds: float) -> None:
        polled.set()
        real_sleep(min(seconds, 0.05))

    monkeypatch.setattr(viewer_api, "study_create", slow_create)
    monkeypatch.setattr(submissions, "_sleep", note_poll)
    token = uuid.uuid4()
    results: dict[str, Any] = {}

    def submit(name: str) -> None:
        try:
            results[name] = submission_create(user=coordinator, token=token, data=DATA)
        finally:
            connection.close()

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=submit, args=("second",))
    second.start()
    assert polled.wait(10)  # the second waits for the first instead of sending
    assert len(calls) == 1
    release.set()
    first.join(10)
    second.join(10)
    assert isinstance(results["first"], Created)
    assert isinstance(results["second"], AlreadyCreated)
    assert results["second"].study_id == STUDY_ID
    assert len(calls) == 1
