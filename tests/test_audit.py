"""The audit trail: written before the call, completed after it, read only in admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from studies.audit import audited, study_history
from studies.models import AuditEntry
from studies.viewer_api import Unavailable

pytestmark = pytest.mark.django_db


def test_an_entry_is_pending_during_the_call_and_succeeds_after(coordinator: User) -> None:
    with audited(
        user=coordinator,
        action=AuditEntry.Action.UPDATE,
        study_id="stu_1",
        changed_fields=["severity", "metadata"],
    ) as entry:
        stored = AuditEntry.objects.get(pk=entry.pk)
        assert stored.outcome == AuditEntry.Outcome.PENDING
        assert stored.finished_at is None
    entry.refresh_from_db()
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
    assert entry.finished_at is not None
    assert entry.changed_fields == ["metadata", "severity"]


def test_an_api_failure_is_recorded_with_its_message(coordinator: User) -> None:
    with (
        pytest.raises(Unavailable),
        audited(user=coordinator, action=AuditEntry.Action.CANCEL, study_id="stu_2"),
    ):
        raise Unavailable()
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert entry.error_message == Unavailable.default_message


def test_an_unexpected_error_is_recorded_without_its_text(coordinator: User) -> None:
    with (
        pytest.raises(RuntimeError),
        audited(user=coordinator, action=AuditEntry.Action.CREATE, study_instance_uid="1.2"),
    ):
        raise RuntimeError("patient name could be here")
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert entry.error_message == "Unexpected error (RuntimeError)."


def test_study_history_lists_only_that_study_newest_first(coordinator: User) -> None:
    for study_id in ("stu_a", "stu_b", "stu_a"):
        with audited(user=coordinator, action=AuditEntry.Action.UPDATE, study_id=study_id):
            pass
    history = study_history(study_id="stu_a")
    assert [entry.study_id for entry in history] == ["stu_a", "stu_a"]
    assert history[0].pk > history[1].pk


def test_admin_shows_the_audit_trail_read_only(admin_client: Any, coordinator: User) -> None:
    with audited(user=coordinator, action=AuditEntry.Action.UPDATE, study_id="stu_x"):
        pass
    entry = AuditEntry.objects.get()
    listing = admin_client.get("/admin/studies/auditentry/?action__exact=update")
    assert listing.status_code == 200
    assert b"stu_x" in listing.content
    assert admin_client.get("/admin/studies/auditentry/add/").status_code == 403
    change = admin_client.post(f"/admin/studies/auditentry/{entry.pk}/change/", {"study_id": "z"})
    assert change.status_code == 403
    delete = admin_client.post(f"/admin/studies/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    entry.refresh_from_db()
    assert entry.study_id == "stu_x"
