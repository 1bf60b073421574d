"""Study imports: the writes (create from a checked file, send, cancel, take over) and the
reads the pages need (progress, results, a coordinator's imports)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from imports.checks import CheckedRow
from imports.models import ImportRow, StudyImport
from imports.parsing import ParsedFile
from studies.models import AuditEntry

logger = logging.getLogger(__name__)

State = StudyImport.State
RowStatus = ImportRow.Status
# States in which a worker still has something to do.
ACTIVE_STATES = (State.QUEUED, State.RUNNING, State.CANCELLING)


def import_create(
    *, user: User, file_name: str, parsed: ParsedFile, rows: Iterable[CheckedRow]
) -> StudyImport:
    """Store a checked file as an import in preview (nothing is sent yet). Every row gets its
    one-time token here, before anything can be sent."""
    rows = list(rows)
    with transaction.atomic():
        study_import = StudyImport.objects.create(
            created_by=user,
            file_name=file_name[:255],
            total_rows=len(rows),
            valid_rows=sum(1 for row in rows if row.valid),
            columns={
                "delimiter": parsed.delimiter_name,
                "headers": [column.header for column in parsed.columns],
                "ignored": parsed.ignored,
                "metadata": parsed.metadata_keys,
            },
        )
        ImportRow.objects.bulk_create(
            [
                ImportRow(
                    study_import=study_import,
                    number=row.number,
                    cells=row.cells,
                    payload=row.payload,
                    problems=[{"column": p.column, "message": p.message} for p in row.problems],
                    study_instance_uid=row.uid[:200],
                    status=RowStatus.WAITING if row.valid else RowStatus.INVALID,
                )
                for row in rows
            ],
            batch_size=500,
        )
    logger.info(
        "import %s checked by user %s: %d rows, %d valid",
        study_import.pk,
        user.pk,
        study_import.total_rows,
        study_import.valid_rows,
    )
    return study_import


def import_send(*, user: User, import_id: int) -> StudyImport | None:
    """Queue the valid rows of one of the user's previewed imports for sending. A repeat (a
    second click) changes nothing. None when the user has no such import."""
    from imports.tasks import send_import  # the task module imports this one

    study_import = StudyImport.objects.filter(pk=import_id, created_by=user).first()
    if study_import is None:
        return None
    with transaction.atomic():
        queued = StudyImport.objects.filter(pk=import_id, state=State.PREVIEW).update(
            state=State.QUEUED, sent_at=timezone.now()
        )
        if queued:
            entry = AuditEntry.objects.create(
                user=user,
                action=AuditEntry.Action.IMPORT,
                details={
                    "import_id": study_import.pk,
                    "file_name": study_import.file_name,
                    "rows": study_import.total_rows,
                    "valid_rows": study_import.valid_rows,
                },
            )
            StudyImport.objects.filter(pk=import_id).update(audit_entry=entry)
            transaction.on_commit(lambda: send_import.enqueue(import_id))
    if queued:
        logger.info("import %s queued by user %s", import_id, user.pk)
    study_import.refresh_from_db()
    return study_import


def import_audit_end(*, study_import: StudyImport) -> dict[str, int]:
    """Complete the import's audit entry when it has ended (finished or cancelled): the
    counts of its rows' outcomes; returns them."""
    found = _status_counts(study_import)
    counts = {
        name: found.get(status, 0)
        for name, status in (
            ("created", RowStatus.CREATED),
            ("existing", RowStatus.EXISTING),
            ("rejected", RowStatus.REJECTED),
            ("not_sent", RowStatus.NOT_SENT),
        )
    }
    entry = AuditEntry.objects.filter(study_import=study_import).first()
    if entry is not None:
        entry.details = {**entry.details, **counts}
        if study_import.state == State.CANCELLED:
            entry.outcome = AuditEntry.Outcome.FAILURE
            entry.error_message = f"Cancelled: {counts['not_sent']} row(s) not sent."
        else:
            entry.outcome = AuditEntry.Outcome.SUCCESS
        entry.finished_at = study_import.finished_at or timezone.now()
        entry.save(update_fields=["details", "outcome", "error_message", "finished_at"])
    return counts


def import_cancel(*, user: User, import_id: int) -> StudyImport | None:
    """Stop one of the user's imports: rows already being sent finish, the others are not
    sent. An import no worker has started yet is cancelled at once."""
    study_import = StudyImport.objects.filter(pk=import_id, created_by=user).first()
    if study_import is None:
        return None
    now = timezone.now()
    unclaimed = StudyImport.objects.filter(
        pk=import_id, state=State.QUEUED, run_token__isnull=True
    ).update(state=State.CANCELLED, finished_at=now)
    if unclaimed:
        study_import.rows.filter(status=RowStatus.WAITING).update(
            status=RowStatus.NOT_SENT, finished_at=now
        )
        study_import.refresh_from_db()
        import_audit_end(study_import=study_import)
    else:
        StudyImport.objects.filter(pk=import_id, state__in=(State.QUEUED, State.RUNNING)).update(
            state=State.CANCELLING
        )
    logger.info("import %s cancelled by user %s", import_id, user.pk)
    study_import.refresh_from_db()
    return study_import


def import_resume_abandoned(*, import_id: int | None = None) -> list[int]:
    """Queue a new run for every sending import (or just `import_id`) whose worker stopped
    reporting (it died or was killed): its rows resume where they were, each with its own
    token, so none is created twice. Safe to call from anywhere, any number of times: the
    abandoned run loses the import in the same UPDATE that decides to queue the new one."""
    from imports.tasks import send_import  # the task module imports this one

    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_AFTER_SECONDS)
    candidates = StudyImport.objects.filter(
        state__in=(State.RUNNING, State.CANCELLING), heartbeat_at__lt=stale
    )
    if import_id is not None:
        candidates = candidates.filter(pk=import_id)
    resumed = []
    for pk in candidates.values_list("pk", flat=True):
        taken = StudyImport.objects.filter(pk=pk, heartbeat_at__lt=stale).update(
            run_token=None, heartbeat_at=now
        )
        if taken:
            send_import.enqueue(pk)
            resumed.append(pk)
            logger.info("import %s resumed: its worker stopped reporting", pk)
    return resumed


# --- Reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int  # rows to send (the valid ones)
    created: int
    existing: int
    rejected: int
    waiting: int
    not_sent: int
    seconds_left: int | None

    @property
    def done(self) -> int:
        return self.created + self.existing + self.rejected + self.not_sent

    @property
    def percent(self) -> int:
        return 100 if not self.total else math.floor(100 * self.done / self.total)


def _status_counts(study_import: StudyImport) -> dict[str, int]:
    """How many of the import's rows are in each status (one query)."""
    grouped = study_import.rows.order_by().values("status").annotate(n=Count("pk"))
    return {group["status"]: group["n"] for group in grouped}


def import_progress(study_import: StudyImport) -> Progress:
    counts = _status_counts(study_import)
    counts.pop(RowStatus.INVALID, None)
    created = counts.get(RowStatus.CREATED, 0)
    existing = counts.get(RowStatus.EXISTING, 0)
    rejected = counts.get(RowStatus.REJECTED, 0)
    waiting = counts.get(RowStatus.WAITING, 0) + counts.get(RowStatus.SENDING, 0)
    seconds_left = None
    finished = created + existing + rejected
    if study_import.started_at and finished and waiting and study_import.state == State.RUNNING:
        elapsed = (timezone.now() - study_import.started_at).total_seconds()
        seconds_left = math.ceil(elapsed / finished * waiting)
    return Progress(
        total=sum(counts.values()),
        created=created,
        existing=existing,
        rejected=rejected,
        waiting=waiting,
        not_sent=counts.get(RowStatus.NOT_SENT, 0),
        seconds_left=seconds_left,
    )


def imports_of(*, user: User) -> list[StudyImport]:
    return list(StudyImport.objects.filter(created_by=user)[:100])


def import_get(*, user: User, import_id: int) -> StudyImport | None:
    return StudyImport.objects.filter(pk=import_id, created_by=user).first()
