"""Study imports sent by the real task worker (a `manage.py import_worker` subprocess) to the
sandbox over HTTP: every row exactly once, through commit_then_fail, rate limits and an
unavailable API, a worker killed mid-import and restarted, and cancel."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRow, StudyImport
from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import AuditEntry, Submission
from tests.conftest import SandboxFaults
from tests.services.task_worker import TaskWorker

pytestmark = pytest.mark.django_db(transaction=True)

POST_STUDIES = {"method": "POST", "path": "/v1/viewer/studies"}


def send(client: Any, uids: list[str], *, extra: str = "") -> StudyImport:
    """Upload a file of these UIDs, then send it; the import, queued."""
    text = "Severity,Description,UID\n" + "".join(f"normal,Study {u[-6:]},{u}\n" for u in uids)
    data = SimpleUploadedFile("batch.csv", (text + extra).encode())
    response = client.post(reverse("import_new"), {"file": data})
    assert response.status_code == 302, response.content.decode()[:2000]
    study_import = StudyImport.objects.get()
    client.post(reverse("import_send", args=[study_import.pk]))
    study_import.refresh_from_db()
    assert study_import.state == StudyImport.State.QUEUED
    return study_import


def wait_until(condition: Callable[[], bool], *, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def finished(study_import: StudyImport) -> bool:
    study_import.refresh_from_db()
    return study_import.state in (StudyImport.State.FINISHED, StudyImport.State.CANCELLED)


def statuses(study_import: StudyImport) -> Counter[str]:
    return Counter(study_import.rows.values_list("status", flat=True))


def studies_per_uid(uids: list[str]) -> Counter[str]:
    return Counter(
        SandboxStudy.objects.filter(study_instance_uid__in=uids).values_list(
            "study_instance_uid", flat=True
        )
    )


def test_every_row_is_created_once_even_when_answers_are_lost(
    coordinator_client: Any,
    sandbox_faults: SandboxFaults,
    sandbox_factory: SandboxFactory,
    task_worker: Callable[..., TaskWorker],
) -> None:
    customer = sandbox_factory.customer(name="Lakeside Imaging")
    uids = [random_uid() for _ in range(10)]
    late_duplicate, late_rejected = random_uid(), random_uid()
    study_import = send(
        coordinator_client,
        uids,
        extra=f"high,Late twin,{late_duplicate}\nstat,Customer gone,{late_rejected}\n",
    )
    study_import.rows.filter(study_instance_uid=late_rejected).update(
        payload={
            "severity": "stat",
            "studyDescription": "Customer gone",
            "studyInstanceUid": late_rejected,
            "expressCustomerId": customer.customer_id,
        }
    )
    # Between the preview and the sending: someone creates one UID, a customer is deactivated.
    twin = sandbox_factory.study(study_instance_uid=late_duplicate)
    customer.is_active = False
    customer.save()
    # The study is created but the answer is lost: a 502, then a dropped connection.
    sandbox_faults.arm("commit_then_fail", mode="status", count=1, **POST_STUDIES)
    sandbox_faults.arm("commit_then_fail", mode="drop", count=1, **POST_STUDIES)

    task_worker(parallel=4)
    wait_until(lambda: finished(study_import), what="the import to finish")

    assert study_import.state == StudyImport.State.FINISHED
    assert statuses(study_import) == {"created": 10, "existing": 1, "rejected": 1}
    assert studies_per_uid([*uids, late_duplicate]) == dict.fromkeys([*uids, late_duplicate], 1)
    assert not SandboxStudy.objects.filter(study_instance_uid=late_rejected).exists()
    rows = {row.study_instance_uid: row for row in study_import.rows.all()}
    assert rows[late_duplicate].study_id == twin.study_id
    assert "is deactivated" in rows[late_rejected].reason
    for uid in uids:
        study = SandboxStudy.objects.get(study_instance_uid=uid)
        assert rows[uid].study_id == study.study_id
    assert sandbox_faults.armed() == []  # both lost answers happened
    # Each row went through the shared create path: one attempt per token, audited.
    assert Submission.objects.filter(status=Submission.Status.CREATED).count() == 10
    assert (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.CREATE, outcome=AuditEntry.Outcome.SUCCESS
        ).count()
        == 10
    )


def test_rate_limits_and_an_unavailable_api_pause_the_import_without_failing_rows(
    coordinator_client: Any,
    sandbox_faults: SandboxFaults,
    task_worker: Callable[..., TaskWorker],
) -> None:
    uids = [random_uid() for _ in range(6)]
    study_import = send(coordinator_client, uids)
    sandbox_faults.arm("rate_limit", retry_after=1, count=2, **POST_STUDIES)
    sandbox_faults.arm("status", status=503, count=2, **POST_STUDIES)

    task_worker(parallel=2)
    saw_pause = False
    deadline = time.monotonic() + 60
    while not finished(study_import) and time.monotonic() < deadline:
        saw_pause = saw_pause or bool(study_import.pause_reason)
        time.sleep(0.05)

    assert study_import.state == StudyImport.State.FINISHED
    assert saw_pause
    assert statuses(study_import) == {"created": 6}
    assert studies_per_uid(uids) == dict.fromkeys(uids, 1)
    assert sandbox_faults.armed() == []


def test_a_worker_killed_mid_import_then_restarted_loses_and_duplicates_nothing(
    coordinator_client: Any,
    sandbox_faults: SandboxFaults,
    task_worker: Callable[..., TaskWorker],
) -> None:
    uids = [random_uid() for _ in range(16)]
    study_import = send(coordinator_client, uids)
    # Slow creates, so that the kill lands while rows are in flight.
    sandbox_faults.arm("latency", seconds=0.5, count=100, **POST_STUDIES)

    first = task_worker(parallel=4)
    wait_until(
        lambda: statuses(study_import)["created"] >= 4 and statuses(study_import)["sending"] > 0,
        what="some rows created and some in flight",
    )
    first.kill()
    before = statuses(study_import)
    assert before["created"] < 16
    assert before["sending"] > 0  # the kill left rows whose outcome is unknown

    task_worker(parallel=4)
    wait_until(lambda: finished(study_import), what="the restarted worker to finish")

    assert study_import.state == StudyImport.State.FINISHED
    assert statuses(study_import) == {"created": 16}
    assert studies_per_uid(uids) == dict.fromkeys(uids, 1)
    by_uid = dict(SandboxStudy.objects.values_list("study_instance_uid", "study_id"))
    for row in study_import.rows.all():
        assert row.study_id == by_uid[row.study_instance_uid]


def test_cancel_stops_after_the_rows_in_flight(
    coordinator_client: Any,
    sandbox_faults: SandboxFaults,
    task_worker: Callable[..., TaskWorker],
) -> None:
    uids = [random_uid() for _ in range(12)]
    study_import = send(coordinator_client, uids)
    sandbox_faults.arm("latency", seconds=0.7, count=100, **POST_STUDIES)

    task_worker(parallel=2)
    wait_until(lambda: statuses(study_import)["created"] >= 1, what="a first row created")
    coordinator_client.post(reverse("import_cancel", args=[study_import.pk]))
    wait_until(lambda: finished(study_import), what="the cancel to finish")

    assert study_import.state == StudyImport.State.CANCELLED
    counts = statuses(study_import)
    assert set(counts) == {"created", "not_sent"}
    assert counts["not_sent"] >= 6
    # What was in flight finished and is accounted for; nothing else reached the Viewer.
    assert SandboxStudy.objects.filter(study_instance_uid__in=uids).count() == counts["created"]
    created = set(
        study_import.rows.filter(status=ImportRow.Status.CREATED).values_list(
            "study_instance_uid", flat=True
        )
    )
    assert set(SandboxStudy.objects.values_list("study_instance_uid", flat=True)) == created
