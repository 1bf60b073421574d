"""Study imports without a worker: the upload and its preview against the sandbox (the form's
rules, assignees and customers resolved through the API, repeated and existing UIDs), bad
files, who may see what, the progress poll, the result CSV and the worklist export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.checks import check_rows
from imports.models import ImportRow, StudyImport
from imports.parsing import parse
from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import Submission
from tests.conftest import SandboxFaults, make_user
from tests.pages import html

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client: Any, text: str, name: str = "studies.csv") -> Any:
    data = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse("import_new"), {"file": data})


def problems(study_import: StudyImport) -> dict[int, list[tuple[str, str]]]:
    return {
        row.number: [(p["column"], p["message"]) for p in row.problems]
        for row in study_import.rows.filter(status=ImportRow.Status.INVALID)
    }


def test_preview_checks_every_row_with_the_forms_rules(
    coordinator_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    ann = sandbox_factory.user(email="ann@clinic.example", first_name="Ann", last_name="Lee")
    lakeside = sandbox_factory.customer(name="Lakeside Imaging", members=[ann])
    sandbox_factory.customer(name="Old Customer", is_active=False)
    existing = sandbox_factory.study()
    uid = [random_uid() for _ in range(10)]
    long_value = "x" * 1001
    text = "\n".join(
        [
            "Severity,Description,UID,Assignee,Customer,metadata.ward",
            f"STAT,Head CT,{uid[0]},ANN@clinic.example,lakeside imaging,W1",  # 2 valid
            f"urgent,Chest,{uid[1]},,,",  # 3
            f"normal,,{uid[2]},,,",  # 4
            "normal,Knee,1.02.3,,,",  # 5
            f"normal,Hip,{uid[3]},nobody@clinic.example,,",  # 6
            f"normal,Spine,{uid[4]},,Old Customer,",  # 7
            f"normal,A,{uid[5]},,,",  # 8
            f"normal,B,{uid[5]},,,",  # 9
            f"normal,Existing,{existing.study_instance_uid},,,",  # 10
            f"high,Arm,{uid[6]},{ann.user_id},{lakeside.customer_id},",  # 11 valid
            f"normal,Leg,{uid[7]},,,{long_value}",  # 12
            f"normal,Foot,{uid[8]},Ann Lee,,",  # 13
        ]
    )
    response = upload(coordinator_client, text)
    study_import = StudyImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("import_detail", args=[study_import.pk])
    assert (study_import.total_rows, study_import.valid_rows) == (12, 2)

    found = problems(study_import)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10, 12, 13]
    assert found[3] == [("Severity", "Choose Normal, High or STAT.")]
    assert found[4] == [("Description", "Enter a study description.")]
    assert found[5][0][0] == "UID"
    assert "starts with a zero" in found[5][0][1]
    assert found[6] == [
        ("Assignee", "The Viewer has no user with the email nobody@clinic.example.")
    ]
    assert found[7] == [
        ("Customer", "The Express customer \u201cOld Customer\u201d is deactivated.")
    ]
    assert found[8] == [("UID", "The same Study Instance UID is in row 9 of this file.")]
    assert found[9] == [("UID", "The same Study Instance UID is in row 8 of this file.")]
    assert found[10] == [
        (
            "UID",
            f"The Viewer already has a study with this Study Instance UID ({existing.study_id}).",
        )
    ]
    assert found[12][0][0] == "metadata"
    assert "longer than 1000" in found[12][0][1]
    assert "email address or Viewer user id" in found[13][0][1]

    valid = {row.number: row.payload for row in study_import.rows.filter(status="waiting")}
    assert valid[2] == {
        "severity": "stat",
        "studyDescription": "Head CT",
        "studyInstanceUid": uid[0],
        "assignedTo": ann.user_id,
        "expressCustomerId": lakeside.customer_id,
        "metadata": {"ward": "W1"},
    }
    assert valid[11]["assignedTo"] == ann.user_id
    # Nothing was sent.
    assert SandboxStudy.objects.count() == 1
    assert not Submission.objects.exists()

    page = html(coordinator_client.get(response.url))
    assert "Preview: nothing has been sent yet" in page
    assert "Send 2 valid rows" in page
    assert "Choose Normal, High or STAT." in page


def test_many_uids_are_checked_against_the_study_list(
    sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    """Past the look-up limit the UIDs are checked against the list, page by page."""
    existing = [sandbox_factory.study() for _ in range(3)]
    uids = [random_uid() for _ in range(60)] + [s.study_instance_uid for s in existing]
    text = "Severity,Description,UID\n" + "".join(f"normal,S,{u}\n" for u in uids)
    rows = check_rows(parse(text.encode()))
    flagged = [row.uid for row in rows if not row.valid]
    assert flagged == [s.study_instance_uid for s in existing]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (b"Severity,UID\nnormal,1.2\n", "no column for Study description"),
        ("Severity,Description,UID\nnormal,Tête,1.2\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_bad_file_stores_and_sends_nothing(
    coordinator_client: Any, sandbox_url: str, content: bytes, message: str
) -> None:
    data = SimpleUploadedFile("bad.csv", content)
    response = coordinator_client.post(reverse("import_new"), {"file": data})
    assert response.status_code == 200
    assert message in html(response)
    assert not StudyImport.objects.exists()


def test_pasted_rows_are_kept_when_the_api_cannot_check_them(
    coordinator_client: Any, sandbox_url: str, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, method="GET", path="/v1/express", count=10)
    pasted = f"Severity\tDescription\tUID\nnormal\tChest\t{random_uid()}"
    response = coordinator_client.post(reverse("import_new"), {"pasted": pasted})
    page = html(response)
    assert response.status_code == 200
    assert "could not be checked" in page
    assert "Nothing was stored or sent." in page
    assert pasted.split("\n")[1].replace("\t", "&#x9;") in page or "Chest" in page
    assert not StudyImport.objects.exists()


def test_only_coordinators_and_only_their_own_imports(
    client: Any, coordinator_client: Any, observer: Any, sandbox_url: str
) -> None:
    upload(coordinator_client, f"Severity,Description,UID\nnormal,A,{random_uid()}\n")
    study_import = StudyImport.objects.get()
    detail = reverse("import_detail", args=[study_import.pk])
    client.force_login(observer)
    assert client.get(reverse("import_list")).status_code == 403
    assert client.get(detail).status_code == 403
    other = make_user("coordinator2", "Coordinators")
    client.force_login(other)
    assert client.get(detail).status_code == 404
    assert client.post(reverse("import_send", args=[study_import.pk])).status_code == 404
    assert client.get(reverse("import_results", args=[study_import.pk])).status_code == 404
    study_import.refresh_from_db()
    assert study_import.state == StudyImport.State.PREVIEW


def test_the_progress_poll_is_marked_as_background_and_touches_no_session(
    coordinator_client: Any, sandbox_url: str
) -> None:
    upload(coordinator_client, f"Severity,Description,UID\nnormal,A,{random_uid()}\n")
    study_import = StudyImport.objects.get()
    coordinator_client.post(reverse("import_send", args=[study_import.pk]))
    detail = reverse("import_detail", args=[study_import.pk])
    page = html(coordinator_client.get(detail))
    assert 'hx-headers=\'{"X-Background": "1"}\'' in page
    assert 'hx-trigger="every 2s"' in page
    assert f'href="{detail}">Refresh</a>' in page  # without JavaScript
    poll = coordinator_client.get(
        detail, headers={"HX-Request": "true", "HX-Target": "import-progress", "X-Background": "1"}
    )
    fragment = html(poll)
    assert fragment.lstrip().startswith('<section id="import-progress"')
    assert "Waiting for a background worker" in fragment
    assert "sessionid" not in poll.cookies


def test_cancel_before_a_worker_started_it_sends_nothing(
    coordinator_client: Any, sandbox_url: str
) -> None:
    upload(coordinator_client, f"Severity,Description,UID\nnormal,A,{random_uid()}\n")
    study_import = StudyImport.objects.get()
    coordinator_client.post(reverse("import_send", args=[study_import.pk]))
    coordinator_client.post(reverse("import_cancel", args=[study_import.pk]))
    study_import.refresh_from_db()
    assert study_import.state == StudyImport.State.CANCELLED
    assert list(study_import.rows.values_list("status", flat=True)) == ["not_sent"]
    result = coordinator_client.get(reverse("import_results", args=[study_import.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(result.streaming_content).decode())))
    assert lines[0] == ["Row", "Study Instance UID", "Outcome", "Study ID or reason"]
    assert lines[1][2] == "Not sent (import cancelled)"


def test_export_streams_every_page_in_the_import_layout(
    coordinator_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    ann = sandbox_factory.user(email="ann@clinic.example")
    lakeside = sandbox_factory.customer(name="Lakeside Imaging")
    special = sandbox_factory.study(
        severity="stat",
        study_description='CT "head", late',
        assigned_to=ann,
        express_customer=lakeside,
        metadata={"ward": "W1", "bed": "7"},
    )
    stat_uids = {special.study_instance_uid}
    stat_uids |= {sandbox_factory.study(severity="stat").study_instance_uid for _ in range(104)}
    sandbox_factory.study(severity="normal")

    response = coordinator_client.get(reverse("worklist_export") + "?severity=stat")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "Severity",
        "Study description",
        "Study Instance UID",
        "Assignee",
        "Express customer",
        "metadata.ward",
        "metadata.bed",
    ]
    assert {line[2] for line in lines[1:]} == stat_uids  # 105 studies: two pages of 100
    row = next(line for line in lines if line[2] == special.study_instance_uid)
    assert row == [
        "stat",
        'CT "head", late',
        special.study_instance_uid,
        ann.email,
        "Lakeside Imaging",
        "W1",
        "7",
    ]

    # The export reads back as an import: here every study already exists.
    checked = check_rows(parse(text.encode()))
    assert len(checked) == 105
    assert all("already has a study" in row.problems[-1].message for row in checked)

    worklist = html(coordinator_client.get(reverse("home") + "?severity=stat"))
    assert f'href="{reverse("worklist_export")}?severity=stat"' in worklist
