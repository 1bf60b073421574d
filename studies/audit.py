"""The audit trail: who asked Viewer Admin to change what in the Viewer API, and how it went."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.contrib.auth.models import User
from django.utils import timezone

from studies.models import AuditEntry
from studies.viewer_api import ViewerAPIError


@contextmanager
def audited(
    *,
    user: User,
    action: AuditEntry.Action,
    study_id: str = "",
    study_instance_uid: str = "",
    changed_fields: Iterable[str] = (),
    changes: list[dict[str, str]] | None = None,
) -> Iterator[AuditEntry]:
    """Record one mutating call: written (pending) before the block, completed after it.

    The block may fill in `entry.study_id` / `entry.study_instance_uid` once it learns them
    (a create learns its study id from the answer). Field names are recorded; `changes` (an
    edit's old and new values, see `AuditEntry.changes`) never holds a metadata value.
    """
    entry = AuditEntry.objects.create(
        user=user,
        action=action,
        study_id=study_id,
        study_instance_uid=study_instance_uid,
        changed_fields=sorted(changed_fields),
        changes=changes or [],
    )
    try:
        yield entry
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


def study_history(*, study_id: str) -> list[AuditEntry]:
    """The audit entries of one study, newest first, with their users."""
    return list(AuditEntry.objects.filter(study_id=study_id).select_related("user")[:100])
