"""What Viewer Admin keeps in its own database. Studies themselves live in the Viewer API."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from viewer_admin.fields import OrderedJSONField


class Submission(models.Model):
    """One create-study attempt from the form, keyed by the form's one-time token.

    It makes a repeated submission of the same form recognisable (it leads to the study the
    first one created) and keeps what the coordinator typed when the API could not be reached,
    so that it can be sent again later.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        CREATED = "created", "Created"
        UNSENT = "unsent", "Not sent (API unavailable)"
        # The API's answer was lost and a look-up could not tell whether the study was made;
        # sending it again (same token) finds out without ever making a second study.
        UNCONFIRMED = "unconfirmed", "Not confirmed (the answer was lost)"
        REJECTED = "rejected", "Rejected by the API"
        DISCARDED = "discarded", "Discarded"

    class Origin(models.TextChoices):
        FORM = "form", "Create form"
        # A row of a study import: its import sends it again by itself, so it is never in
        # the coordinator's Unsent list.
        IMPORT = "import", "Study import"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    study_instance_uid = models.CharField(max_length=64)
    # Ordered: a retry sends the metadata in the order the coordinator typed it.
    payload = OrderedJSONField(help_text="The create-study request body, as sent to the API.")
    study_id = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    origin = models.CharField(max_length=16, choices=Origin, default=Origin.FORM)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("manage_studies", "Can create and change Viewer studies")]

    def __str__(self) -> str:
        return f"{self.study_instance_uid} ({self.get_status_display()})"


class AuditEntry(models.Model):
    """One mutating call to the Viewer API, and who asked for it.

    The API records only the API key that made a change; this is where the clinic sees which
    coordinator did what. An entry is written before the call (outcome "pending") and completed
    after it, so a crash in between still leaves a trace. Metadata values are never recorded.

    When the call's answer was lost and reading the study back could not tell what happened, the
    outcome is "unconfirmed" and `expected_digest` (a one-way digest of the values of
    `expected_fields` that the study shows once the change is made) lets a later read of the
    study confirm it (`studies.audit.confirm_from_read`).
    """

    # Labels are the members' names in words ("Create") unless given.
    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        CANCEL = "cancel"
        UNCANCEL = "uncancel"
        REROUTE = "reroute", "Open in Viewer"
        # A study import sent (its rows' creates have entries of their own): `details`.
        IMPORT = "import"

    class Outcome(models.TextChoices):
        PENDING = "pending"
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"
        UNCONFIRMED = "unconfirmed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="audit_entries"
    )
    action = models.CharField(max_length=16, choices=Action)
    study_id = models.CharField(max_length=64, blank=True, db_index=True)
    study_instance_uid = models.CharField(max_length=64, blank=True, db_index=True)
    changed_fields = models.JSONField(default=list, blank=True)
    # For an edit: [{"field": name, "old": text, "new": text}] as a coordinator reads them
    # (labels and names, not codes); for metadata only the number of pairs, never a value.
    changes = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.PENDING)
    error_message = models.TextField(blank=True)
    expected_fields = models.JSONField(default=list, blank=True)
    expected_digest = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # An import's entry: {"import_id", "file_name", "rows", "valid_rows"} when it is sent, and
    # the counts of its outcomes ("created", "existing", "rejected", "not_sent") when it ends.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.study_id or self.study_instance_uid}"


class WorklistPreference(models.Model):
    """What the worklist remembers for one person: their last filters and whether the
    quick-create panel was open (studies.preferences keeps a copy in the session)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="worklist_preference"
    )
    # The worklist's query string (WorklistFilterForm.query()): validated filters only.
    filters = models.CharField(max_length=1000, blank=True)
    quick_create_open = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Worklist of {self.user}"
