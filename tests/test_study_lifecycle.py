"""Edit, mark complete / reopen, cancel / uncancel, open in the Viewer, look-up by UID and the
history, through the views against the sandbox over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy, SandboxViewerToken
from studies.models import AuditEntry
from tests.conftest import SandboxFaults
from tests.form_data import edit_form_data, metadata_data
from tests.pages import html, input_value

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dana(sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory.user(
        first_name="Dana", last_name="Lee", suffix1="MD", email="dana.lee@clinic.example"
    )


@pytest.fixture
def study(sandbox_factory: SandboxFactory, sandbox_url: str, dana: Any) -> SandboxStudy:
    return sandbox_factory.study(
        study_description="CT Head",
        severity="normal",
        assigned_to=dana,
        metadata={"ward": "ED", "bed": "4"},
    )


def edit_url(study: SandboxStudy) -> str:
    return f"/studies/{study.study_id}/edit/"


def edit_form(client: Client, study: SandboxStudy) -> dict[str, str]:
    """What the edit page would post back untouched: its values, as shown."""
    page = html(client.get(edit_url(study)))
    return edit_form_data(
        input_value(page, "original") or "",
        list((study.metadata or {}).items()),
        severity=study.severity,
        study_description=study.study_description,
        study_viewer_status=study.study_viewer_status,
        assigned_to=study.assigned_to_id or "",
    )


def with_rows(data: dict[str, str], rows: list[tuple[str, str]]) -> dict[str, str]:
    kept = {k: v for k, v in data.items() if not re.match(r"metadata-\d+-|metadata-TOTAL", k)}
    return {**kept, **metadata_data(rows, initial=int(data["metadata-INITIAL_FORMS"]))}


def last_audit() -> AuditEntry:
    return AuditEntry.objects.order_by("-id").first()  # type: ignore[return-value]


def fresh(study: SandboxStudy) -> SandboxStudy:
    return SandboxStudy.objects.get(pk=study.pk)


# --- Edit --------------------------------------------------------------------------------------


def test_the_edit_page_is_filled_from_the_api(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    response = coordinator_client.get(edit_url(study))
    assert response.status_code == 200
    page = html(response)
    assert '<option value="normal" selected>Normal</option>' in page
    assert input_value(page, "study_description") == "CT Head"
    assert '<option value="incomplete" selected>Incomplete</option>' in page
    assert re.search(rf'value="{study.assigned_to_id}"\s+checked', page)
    assert "Dana Lee, MD" in page
    assert input_value(page, "metadata-0-key") == "ward"
    assert input_value(page, "metadata-1-value") == "4"
    assert input_value(page, "metadata-INITIAL_FORMS") == "2"
    assert ">Viewer status</label>" in page


def test_saving_sends_only_the_changed_fields_and_audits_their_names(
    coordinator_client: Client, study: SandboxStudy, coordinator: User
) -> None:
    data = edit_form(coordinator_client, study)
    # Someone else changes the description while the form is open.
    SandboxStudy.objects.filter(pk=study.pk).update(study_description="CT Head (amended)")
    data["severity"] = "stat"
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.study_id}/"
    after = fresh(study)
    assert after.severity == "stat"
    assert after.study_description == "CT Head (amended)"  # not overwritten
    assert after.metadata == {"ward": "ED", "bed": "4"}
    entry = last_audit()
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
    assert entry.user == coordinator
    assert entry.study_id == study.study_id
    assert entry.study_instance_uid == study.study_instance_uid
    assert entry.changed_fields == ["severity"]
    detail = html(coordinator_client.get(response["Location"]))
    assert "Study saved. Changed: Severity." in detail


def test_metadata_is_replaced_as_a_whole_and_its_values_never_audited(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    data = with_rows(edit_form(coordinator_client, study), [("ward", "ICU"), ("bay", "B-secret")])
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 302
    assert fresh(study).metadata == {"ward": "ICU", "bay": "B-secret"}
    entry = last_audit()
    assert entry.changed_fields == ["metadata"]
    assert "B-secret" not in str(AuditEntry.objects.values_list())


def test_removing_every_row_clears_the_metadata(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    data = edit_form(coordinator_client, study)
    data["metadata-0-DELETE"] = "on"
    data["metadata-1-key"] = ""
    data["metadata-1-value"] = ""
    assert coordinator_client.post(edit_url(study), data).status_code == 302
    assert fresh(study).metadata == {}
    assert last_audit().changed_fields == ["metadata"]


def test_unassign_and_reassign(
    coordinator_client: Client, study: SandboxStudy, sandbox_factory: SandboxFactory
) -> None:
    data = edit_form(coordinator_client, study)
    data["assigned_to"] = ""
    assert coordinator_client.post(edit_url(study), data).status_code == 302
    assert fresh(study).assigned_to_id is None
    assert last_audit().changed_fields == ["assigned_to"]

    other = sandbox_factory.user(first_name="Ann", last_name="Smithers")
    data = edit_form(coordinator_client, fresh(study))
    data["assigned_to"] = other.user_id
    data["study_viewer_status"] = "complete"
    assert coordinator_client.post(edit_url(study), data).status_code == 302
    after = fresh(study)
    assert after.assigned_to_id == other.user_id
    assert after.study_viewer_status == "complete"
    assert last_audit().changed_fields == ["assigned_to", "study_viewer_status"]


def test_nothing_changed_sends_nothing(coordinator_client: Client, study: SandboxStudy) -> None:
    before = fresh(study).updated_at
    response = coordinator_client.post(edit_url(study), edit_form(coordinator_client, study))
    assert response.status_code == 302
    assert fresh(study).updated_at == before
    assert AuditEntry.objects.count() == 0
    assert "Nothing was changed." in html(coordinator_client.get(response["Location"]))


def test_form_errors_are_at_the_fields_with_input_kept(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    data = with_rows(edit_form(coordinator_client, study), [("ward", "ICU"), ("ward", "again")])
    data["study_description"] = ""
    data["severity"] = "high"
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 200
    page = html(response)
    assert "Enter a study description." in page
    assert "This key is already used in row 1." in page
    assert '<option value="high" selected>High</option>' in page
    assert input_value(page, "metadata-1-value") == "again"
    assert fresh(study).severity == "normal"
    assert AuditEntry.objects.count() == 0


def test_an_api_rejection_lands_at_its_field_and_is_audited(
    coordinator_client: Client, study: SandboxStudy, sandbox_factory: SandboxFactory
) -> None:
    revoked = sandbox_factory.user(first_name="Gone", last_name="Away", is_revoked=True)
    data = edit_form(coordinator_client, study)
    data["assigned_to"] = revoked.user_id
    data["severity"] = "high"
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 200
    page = html(response)
    assert re.search(r'id="id_assigned_to_error"><li>[^<]*access revoked', page)
    assert '<option value="high" selected>High</option>' in page
    assert fresh(study).severity == "normal"
    entry = last_audit()
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert entry.changed_fields == ["assigned_to", "severity"]
    assert entry.error_message


def test_an_unavailable_api_keeps_the_input_shows_a_banner_and_is_audited(
    coordinator_client: Client, study: SandboxStudy, sandbox_faults: SandboxFaults
) -> None:
    data = with_rows(edit_form(coordinator_client, study), [("ward", "ICU")])
    data["study_description"] = "CT Head and Neck"
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="PATCH")
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 200
    page = html(response)
    assert "The changes were not saved." in page
    assert "not responding" in page
    assert input_value(page, "study_description") == "CT Head and Neck"
    assert input_value(page, "metadata-0-value") == "ICU"
    assert fresh(study).study_description == "CT Head"
    entry = last_audit()
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert entry.changed_fields == ["metadata", "study_description"]
    assert "not responding" in entry.error_message


def test_an_api_down_before_saving_still_keeps_the_input(
    coordinator_client: Client, study: SandboxStudy, sandbox_faults: SandboxFaults
) -> None:
    data = edit_form(coordinator_client, study)
    data["study_description"] = "Kept"
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="GET", count=3)
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 200
    page = html(response)
    assert "The changes were not saved." in page
    assert input_value(page, "study_description") == "Kept"
    assert AuditEntry.objects.count() == 0  # nothing was sent


def test_a_forged_snapshot_asks_to_save_again(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    data = edit_form(coordinator_client, study)
    data["original"] = "forged"
    data["severity"] = "stat"
    response = coordinator_client.post(edit_url(study), data)
    assert response.status_code == 200
    page = html(response)
    assert "This form had expired" in page
    assert fresh(study).severity == "normal"
    data["original"] = input_value(page, "original") or ""
    assert coordinator_client.post(edit_url(study), data).status_code == 302
    assert fresh(study).severity == "stat"


def test_add_row_without_javascript_keeps_everything(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    data = edit_form(coordinator_client, study)
    data["study_description"] = "Typed"
    data["action"] = "add_row"
    page = html(coordinator_client.post(edit_url(study), data))
    assert input_value(page, "study_description") == "Typed"
    assert input_value(page, "metadata-TOTAL_FORMS") == "3"
    assert input_value(page, "metadata-1-key") == "bed"
    assert AuditEntry.objects.count() == 0


def test_editing_an_unknown_study_is_a_404(coordinator_client: Client, sandbox_url: str) -> None:
    assert coordinator_client.get(f"/studies/stu_{'0' * 32}/edit/").status_code == 404
    assert coordinator_client.get("/studies/nonsense/edit/").status_code == 404


# --- Mark complete / reopen --------------------------------------------------------------------


def test_mark_complete_and_reopen_in_one_click(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    url = f"/studies/{study.study_id}/status/"
    response = coordinator_client.post(url, {"study_viewer_status": "complete"})
    assert response.status_code == 302
    assert fresh(study).study_viewer_status == "complete"
    assert last_audit().changed_fields == ["study_viewer_status"]
    page = html(coordinator_client.get(response["Location"]))
    assert "Marked complete." in page
    assert ">Reopen</button>" in page

    coordinator_client.post(url, {"study_viewer_status": "incomplete"})
    assert fresh(study).study_viewer_status == "incomplete"
    assert AuditEntry.objects.filter(outcome=AuditEntry.Outcome.SUCCESS).count() == 2


def test_a_failed_status_change_says_so_and_is_audited(
    coordinator_client: Client, study: SandboxStudy, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=500, path="/v1/viewer/studies", method="PATCH")
    response = coordinator_client.post(
        f"/studies/{study.study_id}/status/", {"study_viewer_status": "complete"}
    )
    assert response.status_code == 302
    detail = html(coordinator_client.get(response["Location"]))
    assert "The viewer status was not changed." in detail
    assert last_audit().outcome == AuditEntry.Outcome.FAILURE


# --- Cancel / uncancel -------------------------------------------------------------------------


def test_cancel_asks_first_then_cancels_and_audits(
    coordinator_client: Client, study: SandboxStudy, coordinator: User
) -> None:
    url = f"/studies/{study.study_id}/cancel/"
    confirm = coordinator_client.get(url)
    assert confirm.status_code == 200
    page = html(confirm)
    assert "Cancel this study?" in page
    assert study.study_instance_uid in page
    assert re.search(rf'<form method="post" action="{url}"', page)
    assert not fresh(study).is_cancelled  # asking changes nothing

    response = coordinator_client.post(url)
    assert response.status_code == 302
    assert fresh(study).is_cancelled
    entry = last_audit()
    assert (entry.action, entry.outcome, entry.user) == (
        AuditEntry.Action.CANCEL,
        AuditEntry.Outcome.SUCCESS,
        coordinator,
    )
    detail = html(coordinator_client.get(response["Location"]))
    assert "Study cancelled." in detail
    assert "This study is cancelled" in detail
    assert f'href="/studies/{study.study_id}/uncancel/"' in detail

    uncancel = f"/studies/{study.study_id}/uncancel/"
    assert "Uncancel this study?" in html(coordinator_client.get(uncancel))
    assert coordinator_client.post(uncancel).status_code == 302
    assert not fresh(study).is_cancelled
    assert last_audit().action == AuditEntry.Action.UNCANCEL


def test_uncancelling_an_active_study_shows_the_api_error_plainly(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    response = coordinator_client.post(f"/studies/{study.study_id}/uncancel/")
    assert response.status_code == 200
    page = html(response)
    assert "The study was not uncancelled." in page
    assert "The study is not cancelled, so it cannot be uncancelled." in page
    entry = last_audit()
    assert entry.action == AuditEntry.Action.UNCANCEL
    assert entry.outcome == AuditEntry.Outcome.FAILURE
    assert "not cancelled" in entry.error_message


def test_cancelling_a_cancelled_study_says_it_already_was(
    coordinator_client: Client, sandbox_factory: SandboxFactory, sandbox_url: str
) -> None:
    cancelled = sandbox_factory.study(is_cancelled=True)
    page = html(coordinator_client.get(f"/studies/{cancelled.study_id}/cancel/"))
    assert "already cancelled" in page
    assert ">Cancel study</button>" not in page
    response = coordinator_client.post(f"/studies/{cancelled.study_id}/cancel/")
    assert "The study was already cancelled." in html(coordinator_client.get(response["Location"]))


def test_a_failed_cancel_is_shown_and_audited(
    coordinator_client: Client, study: SandboxStudy, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=500, path="/v1/viewer/studies/cancel", method="POST")
    response = coordinator_client.post(f"/studies/{study.study_id}/cancel/")
    assert response.status_code == 200
    assert "The study was not cancelled." in html(response)
    assert not fresh(study).is_cancelled
    assert last_audit().outcome == AuditEntry.Outcome.FAILURE


def test_cancel_only_by_post(coordinator_client: Client, study: SandboxStudy) -> None:
    assert coordinator_client.put(f"/studies/{study.study_id}/cancel/").status_code == 405


# --- Open in Viewer ----------------------------------------------------------------------------


def test_open_in_viewer_redirects_to_a_one_off_link_never_cached(
    coordinator_client: Client, study: SandboxStudy, sandbox_url: str
) -> None:
    response = coordinator_client.post(f"/studies/{study.study_id}/open/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{sandbox_url}/_sandbox/viewer?token=")
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert SandboxViewerToken.objects.count() == 1
    entry = last_audit()
    assert (entry.action, entry.outcome) == (AuditEntry.Action.REROUTE, AuditEntry.Outcome.SUCCESS)
    token = location.split("token=", 1)[1]
    assert token not in str(AuditEntry.objects.values_list())


def test_open_in_viewer_is_post_only(coordinator_client: Client, study: SandboxStudy) -> None:
    assert coordinator_client.get(f"/studies/{study.study_id}/open/").status_code == 405


def test_open_in_viewer_failure_is_a_page_with_a_retry(
    coordinator_client: Client, study: SandboxStudy, sandbox_faults: SandboxFaults
) -> None:
    # Asking for a link changes nothing, so a lost answer is asked for once more.
    sandbox_faults.arm(
        "status", status=503, path="/v1/viewer/studies/reroute-url", method="POST", count=2
    )
    response = coordinator_client.post(f"/studies/{study.study_id}/open/")
    assert response.status_code == 503
    page = html(response)
    assert "could not be opened in the Viewer" in page
    assert ">Try again</button>" in page
    assert "no-store" in response["Cache-Control"]
    assert last_audit().outcome == AuditEntry.Outcome.FAILURE


def test_the_detail_page_opens_the_viewer_in_a_new_tab(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    page = html(coordinator_client.get(f"/studies/{study.study_id}/"))
    form = re.search(rf'<form method="post" action="/studies/{study.study_id}/open/"[^>]*>', page)
    assert form
    assert 'target="_blank"' in form.group(0)


# --- Look-up by UID ----------------------------------------------------------------------------


def test_lookup_from_the_header_finds_the_study(
    coordinator_client: Client, study: SandboxStudy
) -> None:
    page = html(coordinator_client.get("/"))
    assert re.search(r'<form class="uid-lookup" method="get" action="/studies/lookup/"', page)
    response = coordinator_client.get("/studies/lookup/", {"uid": f" {study.study_instance_uid} "})
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.study_id}/"


@pytest.mark.parametrize(
    ("uid", "message"),
    [
        ("1.2.3.4.5.6.7.8.9", "No study has this Study Instance UID."),
        ("1.02", "starts with a zero"),
        ("CT head", "only digits separated by dots"),
    ],
)
def test_lookup_of_an_unknown_or_invalid_uid_keeps_it_in_the_box(
    coordinator_client: Client, sandbox_url: str, uid: str, message: str
) -> None:
    response = coordinator_client.get("/studies/lookup/", {"uid": uid})
    assert response.status_code == 404
    page = html(response)
    assert message in page
    assert input_value(page, "uid") == uid


def test_lookup_with_an_unavailable_api_keeps_the_uid(
    coordinator_client: Client, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies/by-uid", count=3)
    uid = random_uid()
    response = coordinator_client.get("/studies/lookup/", {"uid": uid})
    assert response.status_code == 503
    assert input_value(html(response), "uid") == uid


# --- History -----------------------------------------------------------------------------------


def test_the_detail_page_shows_the_history(
    coordinator_client: Client, study: SandboxStudy, sandbox_faults: SandboxFaults
) -> None:
    data = with_rows(edit_form(coordinator_client, study), [("ward", "ICU")])
    data["severity"] = "high"
    coordinator_client.post(edit_url(study), data)
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies/cancel", method="POST")
    coordinator_client.post(f"/studies/{study.study_id}/cancel/")

    page = html(coordinator_client.get(f"/studies/{study.study_id}/"))
    history = page[page.index('id="history-heading"') :]
    rows = re.findall(r'<tr class="history-row">(.*?)</tr>', history, re.S)
    assert len(rows) == 2
    newest, oldest = rows
    assert "Cancel" in newest
    assert "Failed" in newest
    assert "not responding" in newest
    assert "coordinator" in oldest
    assert "Update" in oldest
    assert "Severity: Normal → High" in oldest
    assert "Metadata: 2 pairs → 1 pair" in oldest
    assert "Succeeded" in oldest
    assert "<time" in oldest
    assert "ICU" not in history


def test_observers_see_the_history_but_no_controls(
    observer_client: Client, study: SandboxStudy
) -> None:
    page = html(observer_client.get(f"/studies/{study.study_id}/"))
    assert "History" in page
    for control in ("/edit/", "/cancel/", "/uncancel/", "/open/", "/status/", "Mark complete"):
        assert control not in page
    assert "Study actions" not in page
