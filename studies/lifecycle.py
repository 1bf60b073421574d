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

from urllib.parse import urlsplit

from django.contrib.auth.models import User

from studies import viewer_api
from studies.audit import audited
from studies.models import AuditEntry
from studies.viewer_api import ActionResult, BadResponse, Study, StudyUpdate

Action = AuditEntry.Action


def study_edit(*, user: User, study: Study, changes: StudyUpdate) -> Study:
    """Send `changes` (only the fields set in it) and return the updated study."""
    with audited(
        user=user,
        action=Action.UPDATE,
        study_id=study.study_id,
        study_instance_uid=study.study_instance_uid,
        changed_fields=changes.model_fields_set,
        expected=viewer_api.expected_update(changes),
    ):
        return viewer_api.study_update(study_id=study.study_id, changes=changes)


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
