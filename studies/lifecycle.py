"""Changing a study that exists: edit, cancel, uncancel, and open it in the Viewer.

Each service makes one mutating call through the service module inside `audited(...)`: the
audit entry (who, what, which study, which fields by name) is written before the call and
completed with its outcome after it. Callers pass the study as the API returned it just before,
so the entry carries its Study Instance UID too. Creating a study is
`studies.submissions.submission_create`, which audits itself.

When a call's answer is lost, the service module reads the study back: the call returns (the
change was made), raises `NotApplied` (it was not) or `OutcomeUnknown` (nobody can tell yet;
the entry stays "unconfirmed" until a later read of the study confirms it).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from django.contrib.auth.models import User

from studies import viewer_api
from studies.audit import audited
from studies.models import AuditEntry
from studies.viewer_api import (
    ActionResult,
    BadResponse,
    Study,
    StudyUpdate,
    UserRef,
    ViewerAPIError,
)

Action = AuditEntry.Action
# The fields an edit changes, in the forms' order.
FIELD_ORDER = ("severity", "study_description", "study_viewer_status", "assigned_to", "metadata")


def _label(value: object) -> str:
    label = getattr(value, "label", None)
    return str(label if label is not None else value)


def _pairs(metadata: Mapping[str, str] | None) -> str:
    count = len(metadata or {})
    return "none" if count == 0 else f"{count} pair{'s' if count != 1 else ''}"


def _user_name(user_id: str | None) -> str:
    if not user_id:
        return "Unassigned"
    try:
        user = viewer_api.user_get_cached(user_id=user_id)
    except ViewerAPIError:
        return user_id
    return user.display_name or user.email


def _assignee(ref: UserRef | None) -> str:
    return ref.display_name if ref else "Unassigned"


def edit_changes(
    study: Study, changes: StudyUpdate, after: Study | None = None
) -> list[dict[str, str]]:
    """Old → new, as a coordinator reads them, for each field `changes` sets (in the forms'
    order); `after` (the study as the API answered) names the new assignee. Metadata is
    described by its number of pairs only."""
    rows: list[dict[str, str]] = []
    for name in FIELD_ORDER:
        if name not in changes.model_fields_set:
            continue
        new_value = getattr(changes, name)
        if name == "assigned_to":
            old = _assignee(study.assigned_to)
            new = _assignee(after.assigned_to) if after else _user_name(new_value)
        elif name == "metadata":
            old, new = _pairs(study.metadata), _pairs(new_value)
            if old == new:
                new += " (values changed)"
        else:
            old, new = _label(getattr(study, name)), _label(new_value)
        rows.append({"field": name, "old": old, "new": new})
    return rows


def study_edit(*, user: User, study: Study, changes: StudyUpdate) -> Study:
    """Send `changes` (only the fields set in it) and return the updated study."""
    with audited(
        user=user,
        action=Action.UPDATE,
        study_id=study.study_id,
        study_instance_uid=study.study_instance_uid,
        changed_fields=changes.model_fields_set,
        expected=viewer_api.expected_update(changes),
        changes=edit_changes(study, changes),
    ) as entry:
        updated = viewer_api.study_update(study_id=study.study_id, changes=changes)
        entry.changes = edit_changes(study, changes, after=updated)
        return updated


def study_set_cancelled(*, user: User, study: Study, cancelled: bool) -> ActionResult:
    """Cancel (`cancelled=True`) or uncancel the study. The API decides whether it may: an
    uncancel of a study that is not cancelled raises its Conflict."""
    with audited(
        user=user,
        action=Action.CANCEL if cancelled else Action.UNCANCEL,
        study_id=study.study_id,
        study_instance_uid=study.study_instance_uid,
        expected={"isCancelled": cancelled},
    ):
        if cancelled:
            return viewer_api.study_cancel(study_id=study.study_id)
        return viewer_api.study_uncancel(study_id=study.study_id)


def study_open_in_viewer(*, user: User, study: Study) -> str:
    """A one-off link that opens the study in the Avara Viewer. It is a credential: hand it to
    the browser and forget it (never cache, store or log it). A link that is not http(s) is
    refused, so the browser is never sent anywhere else."""
    with audited(
        user=user,
        action=Action.REROUTE,
        study_id=study.study_id,
        study_instance_uid=study.study_instance_uid,
    ):
        url = viewer_api.study_viewer_url(study_id=study.study_id)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadResponse()
        return url
