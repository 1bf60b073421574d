"""Creating a study from a form: the one code path behind the full form, the worklist's
quick-create and the retry of an unsent attempt.

`submission_create(user=, token=, data=)` records the attempt (who, when, what) under the form's
one-time token before calling the API, and records how it ended. A repeated submission of the
same token never creates a second study: if the first one created a study, the result points
at it; if the first one is still being sent, the second waits for it. Attempts that failed
because the API could not be used (unavailable, rate limited, misconfigured) are kept as
"unsent", and those whose answer was lost with no way yet to tell whether the study was made
as "unconfirmed"; both can be sent again later with the same token (`submission_retry`) or
given up (`submission_discard`). Sent again, an attempt that may have reached the API
recognises its own study: one with its UID and the same values is "created (confirmed
later)"; one with other values is a real duplicate, and the outcome says what differs. The
same token sent with other values after it created its study is not swallowed: the outcome
says so, and the form can send them as a new study.

Call it outside a database transaction: the attempt must be visible to other requests (and
survive a crash) while the API call is in flight.
"""

from __future__ import annotations

import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from studies import viewer_api
from studies.audit import audited, confirm_create
from studies.models import AuditEntry, Submission
from studies.viewer_api import (
    Conflict,
    InvalidRequest,
    OutcomeUnknown,
    Study,
    StudyCreate,
    ViewerAPIError,
)

Status = Submission.Status
ErrorT = TypeVar("ErrorT", bound=ViewerAPIError)

# How long a repeated submission waits for the first one to finish: the API call's own time
# limit (one POST, then at most a look-up by UID), with a margin.
IN_PROGRESS_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.2
_sleep = time.sleep  # replaceable in tests


def stale_pending_after() -> timedelta:
    """A "sending" attempt older than this was abandoned (the process died mid-call); it may
    be claimed again. Longer than any API call can take (SUBMISSION_SENDING_STALE_SECONDS)."""
    return timedelta(seconds=settings.SUBMISSION_SENDING_STALE_SECONDS)


_UNEXPECTED = "Viewer Admin hit an unexpected error while sending the study; it was not created."
CREATED_BY_AN_EARLIER_ATTEMPT = (
    "Created by an earlier attempt of this form (confirmed later); nothing new was created."
)


# --- Outcomes: facts for the caller; `studies.views.outcomes` puts them into words ----------


@dataclass(frozen=True)
class _WithStudy:
    """An outcome that holds the study the attempt is about."""

    submission: Submission
    study: Study

    @property
    def study_id(self) -> str:
        return self.study.study_id


@dataclass(frozen=True)
class Created(_WithStudy):
    """The API created the study just now. `retry`: the attempt was sent again after one that
    may have reached the API (it may have been in the unsent list until now)."""

    retry: bool = False


@dataclass(frozen=True)
class _WithStudyId:
    """An outcome of a token that created the study `study_id` before (nothing is sent)."""

    submission: Submission
    study_id: str


class AlreadyCreated(_WithStudyId):
    """This token was submitted before and created the study `study_id`."""


class ChangedAfterCreate(_WithStudyId):
    """This token created the study `study_id` before; what was sent now differs from it and
    was not sent (the form keeps it, and may send it as a new study with a fresh token)."""


class ConfirmedLater(_WithStudy):
    """An attempt sent again (it may have reached the API before) found that a study with its
    UID and its values exists: `study`, which that earlier attempt created."""


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
    """A study with this Study Instance UID exists already: `existing`, which differs from
    what was sent in `differs` (coordinator-facing field names; empty: the same values)."""

    submission: Submission
    error: Conflict
    existing: Study
    differs: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Kept(Generic[ErrorT]):
    """An outcome whose attempt is kept for sending again, and the error that kept it."""

    submission: Submission
    error: ErrorT


class Unsent(_Kept[ViewerAPIError]):
    """The API could not be used; the attempt is kept (status "unsent") for a retry."""


class Unconfirmed(_Kept[OutcomeUnknown]):
    """The API's answer was lost and looking the UID up could not tell whether the study was
    made; the attempt is kept (status "unconfirmed"): sending it again finds out."""


Outcome = (
    Created
    | AlreadyCreated
    | ChangedAfterCreate
    | ConfirmedLater
    | InProgress
    | Expired
    | Rejected
    | Duplicate
    | Unsent
    | Unconfirmed
)
# Earlier states of an attempt that may have reached the API (its study may exist).
_MAY_HAVE_REACHED_THE_API = (Status.UNSENT, Status.UNCONFIRMED, Status.PENDING)
_WAITING = (Status.UNSENT, Status.UNCONFIRMED)


# --- The service -----------------------------------------------------------------------------


def submission_create(
    *,
    user: User,
    token: uuid.UUID | str,
    data: StudyCreate,
    wait_seconds: float = IN_PROGRESS_WAIT_SECONDS,
    origin: str = Submission.Origin.FORM,
) -> Outcome:
    """Send one create-study attempt, at most once per token. See the module docstring.
    `origin` IMPORT: a row of a study import, which sends it again itself; its unsent attempts
    stay out of the coordinator's Unsent list."""
    token = uuid.UUID(str(token))
    payload = data.wire()
    deadline = time.monotonic() + wait_seconds
    while True:
        claim = _claim(user=user, token=token, data=data, payload=payload, origin=origin)
        if claim is None:
            return Expired()
        submission, claimed, earlier = claim
        if claimed:
            retry = earlier in _MAY_HAVE_REACHED_THE_API
            return _send(submission, user=user, data=data, retry=retry)
        if submission.status == Status.CREATED:
            if submission.payload != payload:
                return ChangedAfterCreate(submission=submission, study_id=submission.study_id)
            return AlreadyCreated(submission=submission, study_id=submission.study_id)
        if time.monotonic() >= deadline:
            return InProgress(submission=submission)
        _sleep(_POLL_SECONDS)


def submission_data(submission: Submission) -> StudyCreate:
    """The request an earlier attempt sent (to send it again with the same token)."""
    return StudyCreate.model_validate(submission.payload)


def unsent_submissions(*, user: User) -> list[Submission]:
    """The user's attempts that could not be sent or not be confirmed, newest first."""
    return list(_unsent(user))


def unsent_count(*, user: User) -> int:
    """How many of the user's attempts could not be sent or confirmed (one COUNT query)."""
    return _unsent(user).count()


def _unsent(user: User) -> QuerySet[Submission]:
    # An import's rows are not the coordinator's to send again: the import does it.
    return Submission.objects.filter(
        created_by=user, status__in=_WAITING, origin=Submission.Origin.FORM
    )


def submission_retry(*, user: User, submission_id: int) -> Outcome | None:
    """Send one of the user's unsent attempts again, with its own token, so it can never make
    a second study; a study that already has its UID comes back as `Duplicate`. A repeated
    retry (a stale page) of an attempt that is being sent or has created its study leads to
    that study. None when the user has no such attempt (or it was discarded or rejected)."""
    submission = Submission.objects.filter(
        pk=submission_id,
        created_by=user,
        status__in=(*_WAITING, Status.PENDING, Status.CREATED),
        origin=Submission.Origin.FORM,
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
    discarded = (
        _unsent(user)
        .filter(pk=submission_id)
        .update(status=Status.DISCARDED, updated_at=timezone.now())
    )
    return discarded == 1


def _claim(
    *, user: User, token: uuid.UUID, data: StudyCreate, payload: dict[str, object], origin: str
) -> tuple[Submission, bool, str] | None:
    """Record the attempt as "sending" and own it, or return the attempt another request owns
    (or that already created its study); None for another user's token. Exactly one request
    can own a token at a time: the first by inserting the row (the token is unique), later
    ones by a conditional UPDATE from a finished, unsuccessful state. The third value is the
    attempt's status before ("" for a new one)."""
    # In autocommit (a request, the import's senders) a failed INSERT leaves nothing to roll
    # back: no transaction around it, two round trips fewer. Inside a transaction (a caller's,
    # a test's) a savepoint keeps that transaction usable after the IntegrityError.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            submission = Submission.objects.create(
                token=token,
                created_by=user,
                status=Status.PENDING,
                study_instance_uid=data.study_instance_uid,
                payload=payload,
                origin=origin,
            )
        return submission, True, ""
    except IntegrityError:
        submission = Submission.objects.get(token=token)
    if submission.created_by_id != user.pk:
        return None  # someone else's token: never act on (or reveal) their attempt
    earlier = submission.status
    reclaimable = earlier in (*_WAITING, Status.REJECTED, Status.DISCARDED) or (
        submission.status == Status.PENDING
        and submission.updated_at < timezone.now() - stale_pending_after()
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
        return submission, bool(claimed), earlier
    return submission, False, earlier


def _send(submission: Submission, *, user: User, data: StudyCreate, retry: bool) -> Outcome:
    finished = False
    try:
        outcome = _call_api(submission, user=user, data=data, retry=retry)
        finished = True
        return outcome
    finally:
        if not finished:
            _finish(submission, Status.UNSENT, _UNEXPECTED)


def _call_api(submission: Submission, *, user: User, data: StudyCreate, retry: bool) -> Outcome:
    expected = viewer_api.expected_create(data)
    entry: AuditEntry | None = None
    try:
        with audited(
            user=user,
            action=AuditEntry.Action.CREATE,
            study_instance_uid=data.study_instance_uid,
            changed_fields=data.model_dump(exclude_none=True).keys(),
            expected=expected,
        ) as entry:
            study = viewer_api.study_create(data=data)
            entry.study_id = study.study_id
    except InvalidRequest as exc:
        _finish(submission, Status.REJECTED, _describe(exc))
        return Rejected(submission=submission, error=exc)
    except Conflict as exc:
        if exc.existing is None:
            _finish(submission, Status.REJECTED, exc.message)
            return Rejected(submission=submission, error=exc)
        differs = tuple(viewer_api.differences(exc.existing, expected))
        if retry and not differs:  # its own study, even if cancelled since
            return _confirmed_later(submission, entry, user=user, study=exc.existing)
        if exc.existing.is_cancelled:
            differs += (viewer_api.FIELD_NAMES["isCancelled"],)
        _finish(submission, Status.REJECTED, exc.message)
        return Duplicate(submission=submission, error=exc, existing=exc.existing, differs=differs)
    except OutcomeUnknown as exc:
        _finish(submission, Status.UNCONFIRMED, exc.message)
        return Unconfirmed(submission=submission, error=exc)
    except ViewerAPIError as exc:
        _finish(submission, Status.UNSENT, exc.message)
        return Unsent(submission=submission, error=exc)
    _finish(submission, Status.CREATED, "", study_id=study.study_id)
    return Created(submission=submission, study=study, retry=retry)


def _confirmed_later(
    submission: Submission, entry: AuditEntry | None, *, user: User, study: Study
) -> ConfirmedLater:
    """The attempt's own study exists: the attempt, its earlier unconfirmed audit entries and
    this one (which met the duplicate) are completed."""
    _finish(submission, Status.CREATED, "", study_id=study.study_id)
    confirm_create(user=user, study=study)
    if entry is not None:
        entry.study_id = study.study_id
        entry.outcome = AuditEntry.Outcome.SUCCESS
        entry.error_message = CREATED_BY_AN_EARLIER_ATTEMPT
        entry.save(update_fields=["study_id", "outcome", "error_message"])
    return ConfirmedLater(submission=submission, study=study)


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
