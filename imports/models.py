"""A study import: the rows of one uploaded (or pasted) CSV file and how each was sent.

The import itself is in the audit trail (an `AuditEntry` with action "import", `audit_entry`):
who sent which file with how many rows, completed with the counts of created, already existing,
rejected and not sent rows when it ends. Each row's create is audited by the shared create path
(`studies.submissions`), like a create from the form.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class StudyImport(models.Model):
    class State(models.TextChoices):
        PREVIEW = "preview", "Checked, not sent"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Sending"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_imports"
    )
    file_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State, default=State.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    columns = models.JSONField(default=dict, help_text="How the file's columns were read.")
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The run (one task execution) that owns the import, and when it last reported. Another
    # run takes over only when the owner has been silent for IMPORT_STALE_AFTER_SECONDS.
    run_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Sending waits (rate limit, API unavailable) until this time, saying why.
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.TextField(blank=True)
    # The import's own audit entry, written when it is sent.
    audit_entry = models.OneToOneField(
        "studies.AuditEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="study_import",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"


class ImportRow(models.Model):
    class Status(models.TextChoices):
        INVALID = "invalid", "Not sent (problems in the file)"
        WAITING = "waiting", "Waiting"
        SENDING = "sending", "Sending"
        CREATED = "created", "Created"
        EXISTING = "existing", "Already existing"
        REJECTED = "rejected", "Rejected by the API"
        NOT_SENT = "not_sent", "Not sent (import cancelled)"

    study_import = models.ForeignKey(StudyImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(help_text="The row of the file (the header is row 1).")
    # The create request, as the form would send it (empty for an invalid row).
    payload = models.JSONField(null=True, blank=True)
    cells = models.JSONField(default=dict, help_text="The row's cells, by column header.")
    problems = models.JSONField(default=list, help_text="[{column, message}] found by the check.")
    # The one-time token of this row's create: stored before anything is sent, so a repeat
    # (a restarted worker, a retried task) can never create a second study.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status, default=Status.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    study_instance_uid = models.CharField(max_length=200, blank=True)
    study_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study_import", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study_import", "number"], name="import_row_unique")
        ]
        indexes = [models.Index(fields=["study_import", "status"])]

    def __str__(self) -> str:
        return f"Row {self.number}"
