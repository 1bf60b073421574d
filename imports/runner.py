"""Sending an import: what one run of the background task does.

A run first claims the import (one owner at a time: the owner reports every second, and a
run whose owner has been silent for IMPORT_STALE_AFTER_SECONDS is taken over). It then sends
the waiting rows, IMPORT_PARALLEL_ROWS at a time, each through the shared create path
`studies.submissions.submission_create` with the row's own one-time token: a row sent again
(after a crash, a killed worker, a retried task) can never create a second study.

The run's thread hands rows (read from the database a batch at a time) to IMPORT_PARALLEL_ROWS
sender threads, which live as long as the run and keep their database connections; it looks at
the import's state (cancel, pause) and reports its heartbeat a few times a second, not per row.

- A rate limit (429) pauses sending for the time the API asked; an unavailable API pauses it
  with a growing wait (up to 30 s). The rows are not failed: they wait and are sent later.
- A row that was being sent when an earlier run died is "in doubt": its outcome is read back
  (the study looked up by UID) before anything is said about it.
- Cancelling stops after the rows in flight; the rest are marked not sent.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from imports.export import study_row_payload
from imports.models import ImportRow, StudyImport
from imports.services import import_audit_end
from studies import viewer_api
from studies.models import Submission
from studies.submissions import (
    AlreadyCreated,
    ChangedAfterCreate,
    ConfirmedLater,
    Created,
    Duplicate,
    Expired,
    InProgress,
    Rejected,
    Unconfirmed,
    Unsent,
    submission_create,
)
from studies.viewer_api import InvalidRequest, NotFound, Study, StudyCreate, ViewerAPIError

logger = logging.getLogger(__name__)

State = StudyImport.State
RowStatus = ImportRow.Status
_HEARTBEAT_SECONDS: Final = 1.0
_POLL_SECONDS: Final = 0.25
_UNAVAILABLE_WAIT_MAX: Final = 30.0
# How long a row waits for another sender of its own token before it is looked at again.
_IN_PROGRESS_WAIT: Final = 1.0
_MAX_UNEXPECTED: Final = 3
# Waiting rows read from the database at a time (one query per this many rows sent).
_BATCH: Final = 100


@dataclass(frozen=True)
class Pause:
    seconds: float
    reason: str
    unavailable: bool = False


def run_import(import_id: int) -> str:
    """Send the import's waiting rows, or do nothing when another run owns it; returns what
    happened, in a few words (the task's result)."""
    token = uuid.uuid4()
    if not _claim(import_id, token):
        return "not claimed"
    study_import = StudyImport.objects.select_related("created_by").get(pk=import_id)
    logger.info("import %s: run %s started", import_id, token)
    outcome = _Run(study_import, token).send()
    logger.info("import %s: run %s %s", import_id, token, outcome)
    return outcome


def _claim(import_id: int, token: uuid.UUID) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_AFTER_SECONDS)
    claimed = (
        StudyImport.objects.filter(
            pk=import_id, state__in=(State.QUEUED, State.RUNNING, State.CANCELLING)
        )
        .filter(Q(run_token__isnull=True) | Q(heartbeat_at__lt=stale))
        .update(run_token=token, heartbeat_at=now)
    )
    if not claimed:
        return False
    StudyImport.objects.filter(pk=import_id, state=State.QUEUED).update(state=State.RUNNING)
    StudyImport.objects.filter(pk=import_id, started_at__isnull=True).update(started_at=now)
    return True


class _Run:
    def __init__(self, study_import: StudyImport, token: uuid.UUID) -> None:
        self.study_import = study_import
        self.user: User = study_import.created_by
        self.token = token
        self.parallel = max(1, settings.IMPORT_PARALLEL_ROWS)
        self.unavailable_in_a_row = 0
        self._last_beat = 0.0

    @property
    def _mine(self) -> Any:
        return StudyImport.objects.filter(pk=self.study_import.pk, run_token=self.token)

    def send(self) -> str:
        """Keep `parallel` rows in flight on as many sender threads (each with its own
        database connection, kept for the whole run) until no row waits, the import is
        cancelled or another run takes it over."""
        todo: queue.SimpleQueue[ImportRow | None] = queue.SimpleQueue()
        done: queue.SimpleQueue[tuple[ImportRow, Pause | None]] = queue.SimpleQueue()
        senders = [
            threading.Thread(target=self._sender, args=(todo, done), daemon=True)
            for _ in range(self.parallel)
        ]
        for sender in senders:
            sender.start()
        try:
            stopped = self._dispatch(todo, done)
        finally:
            for _ in senders:
                todo.put(None)
            for sender in senders:
                sender.join()
        if stopped == "lost":
            return "stopped: another run took over"
        return self._finish(cancelled=stopped == "cancelled")

    def _dispatch(
        self,
        todo: queue.SimpleQueue[ImportRow | None],
        done: queue.SimpleQueue[tuple[ImportRow, Pause | None]],
    ) -> str:
        """Hand rows to the senders and collect their outcomes; how it stopped: "finished",
        "cancelled" or "lost"."""
        in_flight: set[int] = set()
        upcoming: deque[ImportRow] = deque()
        paused, stopping = False, ""
        next_look = 0.0
        while True:
            now = time.monotonic()
            if now >= next_look:
                # The import's state (cancel, pause) and this run's heartbeat, a few times a
                # second rather than per row.
                next_look = now + _POLL_SECONDS
                if not stopping and not self._beat():
                    stopping = "lost"  # another run took over: finish the rows in flight
                state, paused_until = (
                    StudyImport.objects.filter(pk=self.study_import.pk)
                    .values_list("state", "paused_until")
                    .get()
                )
                if not stopping and state == State.CANCELLING:
                    stopping = "cancelled"
                paused = paused_until is not None and paused_until > timezone.now()
                if not paused and paused_until is not None:
                    self._mine.update(paused_until=None, pause_reason="")
            if not stopping and not paused:
                while len(in_flight) < self.parallel:
                    if not upcoming:
                        upcoming.extend(self._waiting_rows(exclude=in_flight))
                    if not upcoming:
                        break
                    row = upcoming.popleft()
                    in_flight.add(row.pk)
                    todo.put(row)
            if not in_flight:
                if stopping:
                    return stopping
                if not paused and not upcoming:
                    return "finished"  # _waiting_rows found none just now
                time.sleep(_POLL_SECONDS)
                continue
            try:
                row, pause = done.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            in_flight.discard(row.pk)
            if pause is None:
                self.unavailable_in_a_row = 0
            else:
                self._pause(pause)
                upcoming.clear()  # read again after the pause, with the rows sent back
                next_look = 0.0

    def _waiting_rows(self, *, exclude: set[int]) -> list[ImportRow]:
        return list(
            self.study_import.rows.filter(status__in=(RowStatus.WAITING, RowStatus.SENDING))
            .exclude(pk__in=exclude)
            .only("pk", "study_import_id", "payload", "token", "status", "attempts")
            .order_by("number")[:_BATCH]
        )

    def _sender(
        self,
        todo: queue.SimpleQueue[ImportRow | None],
        done: queue.SimpleQueue[tuple[ImportRow, Pause | None]],
    ) -> None:
        try:
            while (row := todo.get()) is not None:
                try:
                    pause = self._send_row(row)
                except Exception:
                    # Not even its outcome could be written (the database): it is sent again
                    # later, with the same token.
                    logger.exception("import %s row %s: not recorded", row.study_import_id, row.pk)
                    pause = None
                done.put((row, pause))
        finally:
            connection.close()

    def _beat(self) -> bool:
        """Report that this run is alive (every second); False when it no longer owns the
        import."""
        now = time.monotonic()
        if now - self._last_beat < _HEARTBEAT_SECONDS:
            return True
        self._last_beat = now
        return bool(self._mine.update(heartbeat_at=timezone.now()))

    def _pause(self, pause: Pause) -> None:
        seconds = pause.seconds
        if pause.unavailable:
            self.unavailable_in_a_row += 1
            seconds = min(2.0 ** (self.unavailable_in_a_row - 1), _UNAVAILABLE_WAIT_MAX)
        until = timezone.now() + timedelta(seconds=seconds)
        # Only ever lengthen a pause (several rows in flight may report one).
        self._mine.filter(Q(paused_until__isnull=True) | Q(paused_until__lt=until)).update(
            paused_until=until, pause_reason=pause.reason
        )
        logger.info("import %s: paused %.1f s", self.study_import.pk, seconds)

    def _finish(self, *, cancelled: bool) -> str:
        now = timezone.now()
        if cancelled:
            self.study_import.rows.filter(status__in=(RowStatus.WAITING, RowStatus.SENDING)).update(
                status=RowStatus.NOT_SENT, finished_at=now
            )
        ended = self._mine.update(
            state=State.CANCELLED if cancelled else State.FINISHED,
            finished_at=now,
            run_token=None,
            paused_until=None,
            pause_reason="",
        )
        if not ended:
            return "stopped: another run took over"
        self.study_import.refresh_from_db()
        counts = import_audit_end(study_import=self.study_import)
        logger.info(
            "import %s %s: by user %s, %d rows, %d created, %d existing, %d rejected",
            self.study_import.pk,
            "cancelled" if cancelled else "finished",
            self.user.pk,
            self.study_import.total_rows,
            counts["created"],
            counts["existing"],
            counts["rejected"],
        )
        return "cancelled" if cancelled else "finished"

    # --- One row (on a pool thread) -----------------------------------------------------------

    def _send_row(self, row: ImportRow) -> Pause | None:
        """Mark the row as being sent (so that a run dying now leaves it "in doubt"), send it
        with its own token and record the outcome; a Pause when sending must wait."""
        in_doubt = row.status == RowStatus.SENDING or row.attempts > 0
        row.attempts += 1
        ImportRow.objects.filter(pk=row.pk).update(
            status=RowStatus.SENDING, attempts=F("attempts") + 1
        )
        try:
            data = StudyCreate.model_validate(row.payload)
            outcome = submission_create(
                user=self.user,
                token=row.token,
                data=data,
                wait_seconds=_IN_PROGRESS_WAIT,
                origin=Submission.Origin.IMPORT,
            )
        except Exception:
            logger.exception("import %s row %s: unexpected error", row.study_import_id, row.pk)
            if row.attempts >= _MAX_UNEXPECTED:
                _finish_row(row, RowStatus.REJECTED, reason=_UNEXPECTED)
            else:
                _finish_row(row, RowStatus.WAITING)
            return None
        return _record(row, data, outcome, in_doubt=in_doubt)


_UNEXPECTED = "Viewer Admin hit an unexpected error while sending this row; it was not created."


def _record(row: ImportRow, data: StudyCreate, outcome: Any, *, in_doubt: bool) -> Pause | None:
    """Write the row's outcome; a Pause when sending must wait."""
    if isinstance(outcome, Created | AlreadyCreated | ConfirmedLater | ChangedAfterCreate):
        _finish_row(row, RowStatus.CREATED, study_id=outcome.study_id)
    elif isinstance(outcome, Duplicate):
        if in_doubt and _is_ours(outcome.existing, data):
            # An earlier attempt of this row created it; its answer was lost.
            _finish_row(row, RowStatus.CREATED, study_id=outcome.existing.study_id)
        else:
            _finish_row(
                row,
                RowStatus.EXISTING,
                study_id=outcome.existing.study_id,
                reason="The Viewer already has a study with this Study Instance UID.",
            )
    elif isinstance(outcome, Rejected):
        _finish_row(row, RowStatus.REJECTED, reason=_rejection(outcome.error))
    elif isinstance(outcome, Unsent | Unconfirmed):
        # Unconfirmed: sent again later with the same token, it finds out (never a second study).
        _finish_row(row, RowStatus.WAITING)
        return _pause_for(outcome.error)
    elif isinstance(outcome, InProgress):
        return _read_back(row, data) if in_doubt else _finish_row(row, RowStatus.WAITING)
    elif isinstance(outcome, Expired):
        _finish_row(
            row,
            RowStatus.REJECTED,
            reason="This row's token belongs to another user's attempt; it was not sent.",
        )
    return None


def _read_back(row: ImportRow, data: StudyCreate) -> Pause | None:
    """A row whose earlier attempt's outcome is unknown (still marked as being sent): look
    the UID up before saying anything."""
    try:
        study = viewer_api.study_get_by_uid(study_instance_uid=data.study_instance_uid)
    except NotFound:
        # Not there (yet): send it again later, with the same token.
        _finish_row(row, RowStatus.WAITING)
        return None
    except ViewerAPIError as exc:
        _finish_row(row, RowStatus.WAITING)
        return _pause_for(exc)
    if _is_ours(study, data):
        _finish_row(row, RowStatus.CREATED, study_id=study.study_id)
    else:
        _finish_row(
            row,
            RowStatus.EXISTING,
            study_id=study.study_id,
            reason="The Viewer already has a study with this Study Instance UID.",
        )
    return None


def _is_ours(study: Study, data: StudyCreate) -> bool:
    """Whether a study found by UID carries exactly what this row asked for."""
    return not study.is_cancelled and study_row_payload(study) == data.wire()


def _pause_for(error: ViewerAPIError) -> Pause:
    if isinstance(error, viewer_api.RateLimited):
        seconds = error.retry_after if error.retry_after and error.retry_after > 0 else 1.0
        return Pause(seconds, "The Viewer API asked us to slow down (too many requests).")
    if isinstance(error, viewer_api.AuthError):
        return Pause(
            _UNAVAILABLE_WAIT_MAX,
            "The Viewer API refused Viewer Admin's credentials; sending waits until an "
            "administrator fixes the API key configuration.",
        )
    return Pause(0.0, "The Viewer API is not responding.", unavailable=True)


def _rejection(error: ViewerAPIError) -> str:
    details = []
    if isinstance(error, InvalidRequest):
        details = [
            f"{name.replace('_', ' ').capitalize()}: {message}"
            for name, messages in error.field_errors.items()
            for message in messages
        ]
    return " ".join([error.message, *details])


def _finish_row(
    row: ImportRow, status: str, *, study_id: str = "", reason: str = ""
) -> Pause | None:
    finished: datetime | None = None if status == RowStatus.WAITING else timezone.now()
    ImportRow.objects.filter(pk=row.pk).update(
        status=status, study_id=study_id, reason=reason, finished_at=finished
    )
    return None
