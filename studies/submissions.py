"""Creating a study from a form: the one code path behind the full form, the worklist's
quick-create and the retry of an unsent attempt.

`submission_create(user=, token=, data=)` records the attempt (who, when, what) under the form's
one-time token before calling the API, and records how it ended. A repeated submission of the
same token never creates a second study: if the first one created a study, the result points
at it; if the first one is still being sent, the second waits for it. Attempts that failed
because the API could not be used (unavailable, rate limited, misconfigured) are kept as
"unsent" so they can be sent again later with the same token (`submission_retry`) or given
up (`submission_discard`).

Call it outside a database transaction: the attempt must be visible to other requests (and
survive a crash) while the API call is in flight.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from studies import viewer_api
from studies.audit import audited
from studies.models import AuditEntry, Submission
from studies.viewer_api import Conflict, InvalidRequest, Study, StudyCreate, ViewerAPIError

Status = Submission.Status

# How long a repeated submission waits for the first one to finish: the API call's own time
# limit (one POST, then at most a look-up by UID), with a margin.
IN_PROGRESS_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.2
_sleep = time.sleep  # replaceable in tests
# A "sending" attempt older than this was abandoned (the process died mid-call); it may be
# claimed again. Longer than any API call can take.
STALE_PENDING_AFTER = timedelta(minutes=2)

_UNEXPECTED = "Viewer Admin hit an unexpected error while sending the study; it was not created."


# --- Outcomes: facts for the caller; `studies.views.outcomes` puts them into words ----------


@dataclass(frozen=True)
class Created:
    """The API created the study just now."""

    submission: Submission
    study: Study

    @property
    def study_id(self) -> str:
        return self.study.study_id


@dataclass(frozen=True)
class AlreadyCreated:
    """This token was submitted before and created the study `study_id`."""

    submission: Submission
    study_id: str


@dataclass(frozen=True)
class InProgress:
    """Another request is still sending this token (and took longer than we waited)."""

    submission: Submission


@dataclass(frozen=True)
class Expired:
    """The token cannot be used: it belongs to another user's attempt."""


@dataclass(frozen=True)
class Rejected:
    """The API refused the request: a value (`InvalidRequest.field_errors` says which, when
    it says), or a conflict other than a duplicate UID (e.g. a deactivated Express
    customer)."""

    submission: Submission
    error: InvalidRequest | Conflict


@dataclass(frozen=True)
class Duplicate:
    """A study with this Study Instance UID exists already: `existing`."""

    submission: Submission
    error: Conflict
    existing: Study


@dataclass(frozen=True)
class Unsent:
    """The API could not be used; the attempt is kept (status "unsent") for a retry."""

    submission: Submission
    error: ViewerAPIError


Outcome = Created | AlreadyCreated | InProgress | Expired | Rejected | Duplicate | Unsent


# --- The service -----------------------------------------------------------------------------


def submission_create(
    *,
    user: User,
    token: uuid.UUID | str,
    data: StudyCreate,
    wait_seconds: float = IN_PROGRESS_WAIT_SECONDS,
) -> Outcome:
    """Send one create-study attempt, at most once per token. See the module docstring."""
    token = uuid.UUID(str(token))
    payload = data.wire()
    deadline = time.monotonic() + wait_seconds
    while True:
        claim = _claim(user=user, token=token, data=data, payload=payload)
        if claim is None:
            return Expired()
        submission, claimed = claim
        if claimed:
            return _send(submission, user=user, data=data)
        if submission.status == Status.CREATED:
            return AlreadyCreated(submission=submission, study_id=submission.study_id)
        if time.monotonic() >= deadline:
            return InProgress(submission=submission)
        _sleep(_POLL_SECONDS)


def submission_data(submission: Submission) -> StudyCreate:
    """The request an earlier attempt sent (to send it again with the same token)."""
    return StudyCreate.model_validate(submission.payload)


def unsent_submissions(*, user: User) -> list[Submission]:
    """The user's attempts that could not be sent, newest first."""
    return list(Submission.objects.filter(created_by=user, status=Status.UNSENT))


def unsent_count(*, user: User) -> int:
    """How many of the user's attempts could not be sent (one COUNT query)."""
    return Submission.objects.filter(created_by=user, status=Status.UNSENT).count()


def submission_retry(*, user: User, submission_id: int) -> Outcome | None:
    """Send one of the user's unsent attempts again, with its own token, so it can never make
    a second study; a study that already has its UID comes back as `Duplicate`. A repeated
    retry (a stale page) of an attempt that is being sent or has created its study leads to
    that study. None when the user has no such attempt (or it was discarded or rejected)."""
    submission = Submission.objects.filter(
        pk=submission_id,
        created_by=user,
        status__in=(Status.UNSENT, Status.PENDING, Status.CREATED),
    ).first()
    if submission is None:
        return None
    return submission_create(user=user, token=submission.token, data=submission_data(submission))


def unsent_submission(*, user: User, submission_id: int) -> Submission | None:
    """One of the user's unsent attempts, or None."""
    return Submission.objects.filter(
        pk=submission_id, created_by=user, status=Status.UNSENT
    ).first()


def submission_discard(*, user: User, submission_id: int) -> bool:
    """Give up one of the user's unsent attempts (it is kept, marked discarded). False when the
    user has no unsent attempt with this id."""
    discarded = Submission.objects.filter(
        pk=submission_id, created_by=user, status=Status.UNSENT
    ).update(status=Status.DISCARDED, updated_at=timezone.now())
    return discarded == 1


def _claim(
    *, user: User, token: uuid.UUID, data: StudyCreate, payload: dict[str, object]
) -> tuple[Submission, bool] | None:
    """Record the attempt as "sending" and own it, or return the attempt another request owns
    (or that already created its study); None for another user's token. Exactly one request
    can own a token at a time: the first by inserting the row (the token is unique), later
    ones by a conditional UPDATE from a finished, unsuccessful state."""
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                token=token,
                created_by=user,
                status=Status.PENDING,
                study_instance_uid=data.study_instance_uid,
                payload=payload,
            )
        return submission, True
    except IntegrityError:
        submission = Submission.objects.get(token=token)
    if submission.created_by_id != user.pk:
        return None  # someone else's token: never act on (or reveal) their attempt
    reclaimable = submission.status in (Status.UNSENT, Status.REJECTED, Status.DISCARDED) or (
        submission.status == Status.PENDING
        and submission.updated_at < timezone.now() - STALE_PENDING_AFTER
    )
    if reclaimable:
        claimed = Submission.objects.filter(
            pk=submission.pk, status=submission.status, updated_at=submission.updated_at
        ).update(
            status=Status.PENDING,
            study_instance_uid=data.study_instance_uid,
            payload=payload,
            error_message="",
            updated_at=timezone.now(),
        )
        submission.refresh_from_db()
        return submission, bool(claimed)
    return submission, False


def _send(submission: Submission, *, user: User, data: StudyCreate) -> Outcome:
    finished = False
    try:
        outcome = _call_api(submission, user=user, data=data)
        finished = True
        return outcome
    finally:
        if not finished:
            _finish(submission, Status.UNSENT, _UNEXPECTED)


def _call_api(submission: Submission, *, user: User, data: StudyCreate) -> Outcome:
    try:
        with audited(
            user=user,
            action=AuditEntry.Action.CREATE,
            study_instance_uid=data.study_instance_uid,
            changed_fields=data.model_dump(exclude_none=True).keys(),
        ) as entry:
            study = viewer_api.study_create(data=data)
            entry.study_id = study.study_id
    except InvalidRequest as exc:
        _finish(submission, Status.REJECTED, _describe(exc))
        return Rejected(submission=submission, error=exc)
    except Conflict as exc:
        _finish(submission, Status.REJECTED, exc.message)
        if exc.existing is None:
            return Rejected(submission=submission, error=exc)
        return Duplicate(submission=submission, error=exc, existing=exc.existing)
    except ViewerAPIError as exc:
        _finish(submission, Status.UNSENT, exc.message)
        return Unsent(submission=submission, error=exc)
    _finish(submission, Status.CREATED, "", study_id=study.study_id)
    return Created(submission=submission, study=study)


def _finish(submission: Submission, status: str, message: str, *, study_id: str = "") -> None:
    submission.status = status
    submission.error_message = message
    submission.study_id = study_id
    submission.save(update_fields=["status", "error_message", "study_id", "updated_at"])


def _describe(error: InvalidRequest) -> str:
    details = [
        f"{name}: {message}"
        for name, messages in error.field_errors.items()
        for message in messages
    ]
    return " ".join([error.message, *details])
