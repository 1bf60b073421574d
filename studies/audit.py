"""The audit trail: who asked Viewer Admin to change what in the Viewer API, and how it went."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from studies.models import AuditEntry, Submission
from studies.viewer_api import (
    NotApplied,
    OutcomeUnknown,
    Study,
    StudyCreate,
    ViewerAPIError,
    expected_create,
    state_digest,
    study_state,
)
from studies.viewer_api.readback import Expected

CONFIRMED_LATER = "Confirmed later: the study showed the change when it was read again."


@contextmanager
def audited(
    *,
    user: User,
    action: AuditEntry.Action,
    study_id: str = "",
    study_instance_uid: str = "",
    changed_fields: Iterable[str] = (),
    expected: Expected | None = None,
    changes: list[dict[str, str]] | None = None,
) -> Iterator[AuditEntry]:
    """Record one mutating call: written (pending) before the block, completed after it.

    The block may fill in `entry.study_id` / `entry.study_instance_uid` once it learns them
    (a create learns its study id from the answer). Field names are recorded; `changes` (an
    edit's old and new values, see `AuditEntry.changes`) never holds a metadata value.
    An `OutcomeUnknown` leaves the entry "unconfirmed", with a digest of `expected` (what the
    study shows once the change is made) for a later read to confirm it; a `NotApplied` is a
    failure that reading back established.
    """
    entry = AuditEntry.objects.create(
        user=user,
        action=action,
        study_id=study_id,
        study_instance_uid=study_instance_uid,
        changed_fields=sorted(changed_fields),
        expected_fields=sorted(expected or ()),
        expected_digest=state_digest(expected) if expected else "",
        changes=changes or [],
    )
    try:
        yield entry
    except OutcomeUnknown as exc:
        # Without an expected state there is nothing to confirm later (a Viewer link that
        # never arrived was simply not handed out).
        outcome = AuditEntry.Outcome.UNCONFIRMED if expected else AuditEntry.Outcome.FAILURE
        _finish(entry, outcome, exc.message)
        raise
    except NotApplied as exc:
        _finish(entry, AuditEntry.Outcome.FAILURE, f"Not applied (read back). {exc.message}")
        raise
    except ViewerAPIError as exc:
        _finish(entry, AuditEntry.Outcome.FAILURE, exc.message)
        raise
    except BaseException as exc:
        _finish(entry, AuditEntry.Outcome.FAILURE, f"Unexpected error ({type(exc).__name__}).")
        raise
    _finish(entry, AuditEntry.Outcome.SUCCESS, "")


def _finish(entry: AuditEntry, outcome: AuditEntry.Outcome, message: str) -> None:
    entry.outcome = outcome
    entry.error_message = message
    entry.finished_at = timezone.now()
    entry.save()


def study_history(*, study_id: str, read: Study | None = None) -> list[AuditEntry]:
    """The audit entries of one study, newest first, with their users. `read` is the study as
    the API just returned it: then creates whose answer was lost are found by its UID, and the
    unconfirmed entries it confirms are completed (`confirm_from_read`)."""
    where = Q(study_id=study_id)
    if read is not None:
        where |= Q(study_id="", study_instance_uid=read.study_instance_uid)
    entries = list(AuditEntry.objects.filter(where).select_related("user")[:100])
    if read is not None:
        confirm_from_read(read, entries)
    return entries


def confirm_from_read(study: Study, entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Complete the unconfirmed entries among `entries` whose change `study` (as the API
    returns it now) shows; returns them. A confirmed create also completes the attempts
    (`Submission`) it was made for."""
    confirmed = []
    for entry in entries:
        if entry.outcome != AuditEntry.Outcome.UNCONFIRMED or not entry.expected_digest:
            continue
        if state_digest(study_state(study, entry.expected_fields)) != entry.expected_digest:
            continue
        entry.study_id = study.study_id
        _finish(entry, AuditEntry.Outcome.SUCCESS, CONFIRMED_LATER)
        confirmed.append(entry)
        if entry.action == AuditEntry.Action.CREATE:
            _confirm_submissions(entry, study)
    return confirmed


def _confirm_submissions(entry: AuditEntry, study: Study) -> None:
    """The user's unconfirmed attempts of this UID with the values `study` shows: created."""
    attempts = Submission.objects.filter(
        created_by_id=entry.user_id,
        study_instance_uid=study.study_instance_uid,
        status=Submission.Status.UNCONFIRMED,
    )
    for attempt in attempts:
        data = StudyCreate.model_validate(attempt.payload)
        if state_digest(expected_create(data)) == entry.expected_digest:
            attempt.status = Submission.Status.CREATED
            attempt.study_id = study.study_id
            attempt.error_message = ""
            attempt.save(update_fields=["status", "study_id", "error_message", "updated_at"])


def confirm_create(*, user: User, study: Study) -> None:
    """A later attempt found that `study` is the one the user's unconfirmed creates of its UID
    made (same values): complete their entries."""
    entries = AuditEntry.objects.filter(
        user=user,
        action=AuditEntry.Action.CREATE,
        study_instance_uid=study.study_instance_uid,
        outcome=AuditEntry.Outcome.UNCONFIRMED,
    )
    confirm_from_read(study, entries)


def creator(history: list[AuditEntry]) -> AuditEntry | None:
    """The entry of the create that made this study through Viewer Admin (from its history, so
    no query of its own); None when the study was made elsewhere."""
    for entry in history:
        if entry.action == AuditEntry.Action.CREATE and entry.outcome == AuditEntry.Outcome.SUCCESS:
            return entry
    return None


def created_by(*, user: User, study_ids: Iterable[str]) -> set[str]:
    """Which of `study_ids` this user created through Viewer Admin (one query)."""
    ids = list(study_ids)
    if not ids:
        return set()
    return set(
        AuditEntry.objects.filter(
            user=user,
            action=AuditEntry.Action.CREATE,
            outcome=AuditEntry.Outcome.SUCCESS,
            study_id__in=ids,
        ).values_list("study_id", flat=True)
    )
