"""Study imports in the audit trail and out of the Unsent list, a rate-limited row waiting for
Retry-After, and the preview's look-ups through the user and study lists. The sending runs in
this process (`imports.runner.run_import`) against the sandbox over HTTP; the worker process
itself is tested in test_imports_worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from imports import checks
from imports.models import ImportRow, StudyImport
from imports.runner import run_import
from sandbox.factories import SandboxFactory, random_uid
from studies.models import AuditEntry, Submission
from studies.submissions import (
    Unsent,
    submission_create,
    submission_discard,
    submission_retry,
    unsent_count,
    unsent_submissions,
)
from studies.viewer_api import StudyCreate
from tests.conftest import SandboxFaults
from tests.pages import html

pytestmark = pytest.mark.django_db(transaction=True)
STUDIES = "/v1/viewer/studies"


def upload_and_send(client: Client, text: str, name: str = "lakeside day.csv") -> StudyImport:
    data = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    response = client.post(reverse("import_new"), {"file": data})
    assert response.status_code == 302, html(response)[:2000]
    study_import = StudyImport.objects.get()
    client.post(reverse("import_send", args=[study_import.pk]))
    study_import.refresh_from_db()
    return study_import


def test_the_import_itself_is_audited_and_each_row_create_too(
    coordinator_client: Client, coordinator: User, sandbox_url: str
) -> None:
    uids = [random_uid(), random_uid()]
    text = "Severity,Description,UID\n" + "".join(f"high,Study,{u}\n" for u in uids)
    study_import = upload_and_send(coordinator_client, text + "loud,Bad severity,1.2.3\n")

    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert study_import.audit_entry == entry
    assert entry.user == coordinator
    assert entry.outcome == AuditEntry.Outcome.PENDING
    assert entry.details == {
        "import_id": study_import.pk,
        "file_name": "lakeside day.csv",
        "rows": 3,
        "valid_rows": 2,
    }

    assert run_import(study_import.pk) == "finished"

    entry.refresh_from_db()
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
    assert entry.finished_at is not None
    assert entry.details == {
        "import_id": study_import.pk,
        "file_name": "lakeside day.csv",
        "rows": 3,
        "valid_rows": 2,
        "created": 2,
        "existing": 0,
        "rejected": 0,
        "not_sent": 0,
    }
    creates = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE)
    assert sorted(creates.values_list("study_instance_uid", flat=True)) == sorted(uids)
    assert {e.outcome for e in creates} == {AuditEntry.Outcome.SUCCESS}
    assert {e.user for e in creates} == {coordinator}
    # Sending again (a second click) writes no second entry.
    coordinator_client.post(reverse("import_send", args=[study_import.pk]))
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == 1


def test_an_import_cancelled_before_it_started_completes_its_audit_entry(
    coordinator_client: Client, sandbox_url: str
) -> None:
    study_import = upload_and_send(
        coordinator_client, f"Severity,Description,UID\nhigh,S,{random_uid()}\n"
    )
    coordinator_client.post(reverse("import_cancel", args=[study_import.pk]))

    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert entry.error_message == "Cancelled: 1 row(s) not sent."
    assert entry.details["not_sent"] == 1
    assert entry.details["created"] == 0


def test_an_import_row_that_could_not_be_sent_is_not_in_the_unsent_list(
    coordinator_client: Client,
    coordinator: User,
    sandbox_faults: SandboxFaults,
    sandbox_url: str,
) -> None:
    """The import sends its own rows again; only the form's unsent attempts are listed and
    counted, and only those can be retried or discarded from the Unsent page."""
    sandbox_faults.arm("status", status=503, path=STUDIES, method="POST", count=20)
    data = StudyCreate(
        severity="normal", study_description="From a file", study_instance_uid=random_uid()
    )
    from_import = submission_create(
        user=coordinator, token=uuid.uuid4(), data=data, origin=Submission.Origin.IMPORT
    )
    assert isinstance(from_import, Unsent)
    assert unsent_count(user=coordinator) == 0
    assert unsent_submissions(user=coordinator) == []
    page = html(coordinator_client.get("/studies/unsent/"))
    assert "Nothing is waiting to be sent." in page
    assert "count-badge" not in page
    assert submission_retry(user=coordinator, submission_id=from_import.submission.pk) is None
    assert not submission_discard(user=coordinator, submission_id=from_import.submission.pk)

    typed = StudyCreate(
        severity="stat", study_description="Typed in", study_instance_uid=random_uid()
    )
    from_form = submission_create(user=coordinator, token=uuid.uuid4(), data=typed)
    assert isinstance(from_form, Unsent)
    assert unsent_submissions(user=coordinator) == [from_form.submission]
    page = html(coordinator_client.get("/studies/unsent/"))
    assert 'Unsent <span class="count-badge">1</span>' in page
    assert "Typed in" in page
    assert "From a file" not in page


def test_an_import_run_marks_its_create_attempts_as_the_imports(
    coordinator_client: Client, sandbox_url: str
) -> None:
    study_import = upload_and_send(
        coordinator_client, f"Severity,Description,UID\nhigh,S,{random_uid()}\n"
    )
    run_import(study_import.pk)
    row = study_import.rows.get()
    assert row.status == ImportRow.Status.CREATED
    assert Submission.objects.get(token=row.token).origin == Submission.Origin.IMPORT


# --- The preview's look-ups -------------------------------------------------------------------


class FakePage:
    """What the helper reads of a `viewer_api.Page`."""

    def __init__(self, items: list[str], more: bool) -> None:
        self.items = items
        self.next_cursor = "next" if more else None


def pages_of(items: list[str], size: int, read: list[int]) -> Any:
    def pages() -> Iterator[FakePage]:
        for start in range(0, len(items), size):
            read.append(start // size)
            yield FakePage(items[start : start + size], start + size < len(items))

    return pages


@pytest.mark.parametrize(
    ("clinic", "wanted", "pages_read", "looked_up"),
    [
        # A small clinic: the list, read whole, answers for every value (found or not).
        (20, ["i3", "i15", "x1", "x2", "x3", "x4", "x5", "x6"], 2, []),
        # A large clinic: 8 values take 2 rounds of 4 look-ups, so at most 2 pages are read;
        # what they did not hold is looked up one by one.
        (
            1000,
            ["i3", "i15", "i500", "x1", "x2", "x3", "x4", "x5"],
            2,
            ["i500", "x1", "x2", "x3", "x4", "x5"],
        ),
        # Every value found: no more pages, no look-up.
        (1000, ["i1", "i2", "i3", "i4", "i5"], 1, []),
        # No more values than one round of look-ups: no list at all.
        (1000, ["i3", "x1", "x2", "x3"], 0, ["i3", "x1", "x2", "x3"]),
    ],
)
def test_values_come_from_the_list_or_one_by_one_whichever_takes_fewer_rounds(
    settings: Any, clinic: int, wanted: list[str], pages_read: int, looked_up: list[str]
) -> None:
    settings.IMPORT_PARALLEL_ROWS = 4
    read: list[int] = []
    asked: list[str] = []

    def look_up(text: str) -> str:
        asked.append(text)
        return f"{text}!" if text.startswith("i") else ""

    found = checks._from_list_or_one_by_one(
        {value.upper(): value for value in wanted},
        pages=pages_of([f"i{n}" for n in range(clinic)], 10, read),
        keys=lambda item: (item.upper(),),
        found=lambda item: f"{item}!",
        look_up=look_up,
        absent=lambda text: "",
    )
    assert found == {v.upper(): (f"{v}!" if v.startswith("i") else "") for v in wanted}
    assert len(read) == pages_read
    assert sorted(asked) == sorted(looked_up)


def test_the_preview_asks_the_api_a_few_list_calls_not_one_per_row(
    coordinator_client: Client, sandbox_faults: SandboxFaults, sandbox_factory: SandboxFactory
) -> None:
    people = [sandbox_factory.user(email=f"reader{n}@clinic.example") for n in range(6)]
    known = sandbox_factory.study()
    lines = ["Severity,Description,UID,Assignee"]
    for n in range(30):
        lines.append(f"normal,Study {n},{random_uid()},{people[n % 6].email.upper()}")
    lines.append(f"high,Twin,{known.study_instance_uid},{people[0].email}")
    counter = sandbox_faults.arm("latency", seconds=0, persistent=True)

    data = SimpleUploadedFile("many.csv", ("\n".join(lines) + "\n").encode())
    response = coordinator_client.post(reverse("import_new"), {"file": data})

    assert response.status_code == 302
    study_import = StudyImport.objects.get()
    assert study_import.valid_rows == 30
    twin = study_import.rows.get(study_instance_uid=known.study_instance_uid)
    assert known.study_id in twin.problems[0]["message"]
    row = study_import.rows.filter(status=ImportRow.Status.WAITING).first()
    assert row is not None
    assert row.payload["assignedTo"] == people[0].user_id
    applied = next(f for f in sandbox_faults.armed() if f["id"] == counter["id"])["applied"]
    # The customers, the users (one page), the studies (one page): 3 calls for 31 rows.
    assert applied == 3


def test_a_rate_limited_row_waits_for_retry_after_then_is_sent(
    coordinator_client: Client, sandbox_faults: SandboxFaults, settings: Any
) -> None:
    settings.IMPORT_PARALLEL_ROWS = 1
    uids = [random_uid() for _ in range(3)]
    text = "Severity,Description,UID\n" + "".join(f"high,Study,{u}\n" for u in uids)
    study_import = upload_and_send(coordinator_client, text)
    sandbox_faults.arm("rate_limit", retry_after=2, count=1, path=STUDIES, method="POST")

    assert run_import(study_import.pk) == "finished"

    assert set(study_import.rows.values_list("status", flat=True)) == {ImportRow.Status.CREATED}
    creates = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE)
    refused = creates.get(outcome=AuditEntry.Outcome.FAILURE)
    sent = creates.filter(outcome=AuditEntry.Outcome.SUCCESS)
    assert sent.count() == 3
    assert refused.finished_at is not None
    first_after = min(entry.started_at for entry in sent)
    assert (first_after - refused.finished_at).total_seconds() >= 1.9
