"""Django admin: the audit trail and the create attempts, read only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from studies.models import AuditEntry, Submission


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    """Records of what happened: nobody adds, edits or deletes them from the UI."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "user",
        "action",
        "study_id",
        "study_instance_uid",
        "changed_fields",
        "outcome",
        "error_message",
    ]
    list_filter = ["action", "outcome", "user", "started_at"]
    date_hierarchy = "started_at"
    search_fields = ["study_id", "study_instance_uid", "user__username"]
    list_select_related = ["user"]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "created_by", "study_instance_uid", "status", "study_id"]
    list_filter = ["status", "created_by", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["study_instance_uid", "study_id", "created_by__username"]
    list_select_related = ["created_by"]
    exclude = ["payload"]  # it holds metadata values
