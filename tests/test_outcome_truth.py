"""Every fault the sandbox can inject, times every mutating action, through the views and the
sandbox over real HTTP (issue 13): the message must match what the Viewer API then holds,
nothing typed is lost, and no study exists twice.

One test per action; each fault kind is a subtest on a fresh study, so the transactional
set-up is paid once per action. Read-backs and the hang's client timeout are short here.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy, SandboxViewerToken
from studies.audit import CONFIRMED_LATER
from studies.models import AuditEntry, Submission
from tests.conftest import SandboxFaults
from tests.pages import html, input_value

pytestmark = pytest.mark.django_db(transaction=True)

STUDIES = "/v1/viewer/studies"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quick-create"}

# What a page may say, by what it claims.
SAVED = (
    "Study created",
    "The study was created (confirmed later)",
    "Study saved.",
    "Marked complete.",
    "Reopened (incomplete).",
    "Study cancelled.",
    "Study uncancelled.",
)
NOT_DONE = (
    "The study was not created.",
    "The changes were not saved.",
    "The viewer status was not changed.",
    "The study was not cancelled.",
    "The study was not uncancelled.",
    "The study still could not be sent.",
)
UNCONFIRMED = ("We could not confirm whether",)
TOLD = {"saved": SAVED, "not": NOT_DONE, "unconfirmed": UNCONFIRMED}
AUDITED = {
    "saved": AuditEntry.Outcome.SUCCESS,
    "not": AuditEntry.Outcome.FAILURE,
    "unconfirmed": AuditEntry.Outcome.UNCONFIRMED,
}


@dataclass(frozen=True)
class Fault:
    name: str
    options: dict[str, Any]
    told: str  # what the page must say: "saved", "not" or "unconfirmed"
    timeout: float | None = None  # the client's timeout while it is armed

    @property
    def applied(self) -> bool:
        """Whether the API has carried the call out by the time the page answers."""
        return self.options["fault"] in ("latency", "commit_then_fail")


FAULTS = [
    Fault("latency", {"fault": "latency", "seconds": 0.2}, "saved"),
    # Past the client's timeout; it would carry the call out after 30 s (disarmed before).
    Fault("hang", {"fault": "hang", "seconds": 30}, "unconfirmed", timeout=1.0),
    Fault("5xx", {"fault": "status", "status": 500}, "not"),
    Fault("429", {"fault": "rate_limit", "retry_after": 1}, "not"),
    Fault("malformed body", {"fault": "malformed_json"}, "not"),
    Fault("commit then 502", {"fault": "commit_then_fail", "mode": "status"}, "saved"),
    Fault("commit then drop", {"fault": "commit_then_fail", "mode": "drop"}, "saved"),
    Fault("commit then unreadable", {"fault": "commit_then_fail", "mode": "malformed"}, "saved"),
    Fault(
        "commit then fail, read-back failing too",
        {"fault": "commit_then_fail", "mode": "status", "outage": 50},
        "unconfirmed",
    ),
]


@dataclass
class Outcome:
    """What one action answered (the page the coordinator ends up on) and what it touched."""

    page: str
    applied: Callable[[], bool]
    typed: Callable[[str], bool] = lambda page: True  # the input is still on the page
    uid: str = ""
    links: list[str] = field(default_factory=list)  # expected when unconfirmed


class Matrix:
    def __init__(
        self,
        client: Client,
        factory: SandboxFactory,
        faults: SandboxFaults,
        settings: Any,
        subtests: Any,
    ) -> None:
        self.client, self.factory, self.faults = client, factory, faults
        self.settings, self.subtests = settings, subtests
        settings.VIEWER_API_READ_BACK_SECONDS = 0.5

    def arm(self, fault: Fault, method: str, path: str) -> None:
        if fault.timeout:
            self.settings.VIEWER_API_TIMEOUT_SECONDS = fault.timeout
        self.faults.arm(method=method, path=path, **fault.options)

    def landed(self, response: Any) -> str:
        """The page the coordinator sees: a redirect is followed once the faults are gone."""
        self.faults.clear()
        self.settings.VIEWER_API_TIMEOUT_SECONDS = 15.0
        if response.status_code == 302:
            return html(self.client.get(response["Location"]))
        return html(response)

    def run(self, action: Callable[[int, Fault], Outcome]) -> None:
        for index, fault in enumerate(FAULTS):
            with self.subtests.test(msg=fault.name):
                try:
                    outcome = action(index, fault)
                finally:
                    self.faults.clear()
                    self.settings.VIEWER_API_TIMEOUT_SECONDS = 15.0
                self.check(fault, outcome, fault.told)

    def check(self, fault: Fault, outcome: Outcome, expected: str) -> None:
        page = outcome.page
        applied = outcome.applied()
        assert applied == fault.applied, "the API state is not the one this fault leaves"
        assert any(phrase in page for phrase in TOLD[expected]), f"expected {expected!r}"
        for kind, phrases in TOLD.items():
            if kind != expected:
                said = [phrase for phrase in phrases if phrase in page]
                assert not said, f"says {said} although the outcome is {expected!r}"
        if expected != "saved":
            assert outcome.typed(page), "what was typed is gone"
        if expected == "unconfirmed":
            for link in outcome.links:
                assert f'href="{link}"' in page
        if outcome.uid:
            assert SandboxStudy.objects.filter(study_instance_uid=outcome.uid).count() <= 1
        entry = AuditEntry.objects.order_by("-id").first()
        assert entry is not None
        if expected == "unconfirmed" and entry.outcome == AuditEntry.Outcome.SUCCESS:
            # The page it landed on (the study) read the change back: completed since.
            assert applied
            assert entry.error_message == CONFIRMED_LATER
        else:
            assert entry.outcome == AUDITED[expected]


@pytest.fixture
def matrix(
    coordinator_client: Client,
    sandbox_factory: SandboxFactory,
    sandbox_faults: SandboxFaults,
    settings: Any,
    subtests: Any,
) -> Matrix:
    return Matrix(coordinator_client, sandbox_factory, sandbox_faults, settings, subtests)


# --- Creates ---------------------------------------------------------------------------------


def study_fields(uid: str, description: str) -> dict[str, str]:
    return {
        "severity": "high",
        "study_description": description,
        "study_instance_uid": uid,
        "assignee_query": "",
        "assigned_to": "",
    }


def full_form(uid: str, description: str) -> dict[str, str]:
    return {
        "token": str(uuid.uuid4()),
        **study_fields(uid, description),
        "express_customer_id": "",
        "metadata-TOTAL_FORMS": "1",
        "metadata-INITIAL_FORMS": "0",
        "metadata-0-key": "ward",
        "metadata-0-value": "ED",
    }


def quick_form(uid: str, description: str) -> dict[str, str]:
    fields = {"token": str(uuid.uuid4()), **study_fields(uid, description)}
    return {**{f"quick-{name}": value for name, value in fields.items()}, "action": "create"}


def exists(uid: str) -> Callable[[], bool]:
    return lambda: SandboxStudy.objects.filter(study_instance_uid=uid).exists()


def kept(name: str, value: str) -> Callable[[str], bool]:
    return lambda page: input_value(page, name) == value


@pytest.mark.parametrize("how", ["form", "quick over htmx", "quick plain"])
def test_create(matrix: Matrix, how: str) -> None:
    def action(index: int, fault: Fault) -> Outcome:
        uid, description = random_uid(), f"CT {fault.name}"
        if how == "form":
            url, data, extra, name = "/studies/new/", full_form(uid, description), {}, ""
        else:
            url, data, name = "/", quick_form(uid, description), "quick-"
            extra = HTMX if how == "quick over htmx" else {}
        matrix.arm(fault, "POST", STUDIES)
        response = matrix.client.post(url, data, **extra)
        return Outcome(
            page=matrix.landed(response),
            applied=exists(uid),
            typed=kept(f"{name}study_description", description),
            uid=uid,
            links=[f"/studies/by-uid/{uid}/"],
        )

    matrix.run(action)


def unsent_attempt(uid: str, description: str, **fields: Any) -> Submission:
    """An attempt kept as unsent (as a 503 leaves it), by the signed-in coordinator."""
    payload = {
        "severity": "high",
        "studyDescription": description,
        "studyInstanceUid": uid,
        "metadata": {"ward": "ED"},
        **fields,
    }
    return Submission.objects.create(
        created_by=User.objects.get(username="coordinator"),
        status=Submission.Status.UNSENT,
        study_instance_uid=uid,
        payload=payload,
    )


def test_unsent_retry(matrix: Matrix) -> None:
    def action(index: int, fault: Fault) -> Outcome:
        uid = random_uid()
        submission = unsent_attempt(uid, "CT unsent")
        matrix.arm(fault, "POST", STUDIES)
        response = matrix.client.post(f"/studies/unsent/{submission.pk}/retry/")
        page = matrix.landed(response)

        def still_there(page: str) -> bool:
            submission.refresh_from_db()
            return submission.payload["studyDescription"] == "CT unsent" and (
                submission.status in (Submission.Status.UNSENT, Submission.Status.UNCONFIRMED)
            )

        return Outcome(
            page=page,
            applied=exists(uid),
            typed=still_there,
            uid=uid,
            links=[f"/studies/by-uid/{uid}/"],
        )

    matrix.run(action)


# --- Changes to a study ----------------------------------------------------------------------


def edit_form(client: Client, study: SandboxStudy, description: str) -> dict[str, str]:
    page = html(client.get(f"/studies/{study.study_id}/edit/"))
    return {
        "original": input_value(page, "original") or "",
        "severity": study.severity,
        "study_description": description,
        "study_viewer_status": study.study_viewer_status,
        "assignee_query": "",
        "assigned_to": "",
        "metadata-TOTAL_FORMS": "0",
        "metadata-INITIAL_FORMS": "0",
    }


def fresh(study: SandboxStudy) -> SandboxStudy:
    return SandboxStudy.objects.get(pk=study.pk)


def test_edit(matrix: Matrix) -> None:
    def action(index: int, fault: Fault) -> Outcome:
        study = matrix.factory.study(study_description="CT Head")
        data = edit_form(matrix.client, study, "CT Head and Neck")
        matrix.arm(fault, "PATCH", STUDIES)
        response = matrix.client.post(f"/studies/{study.study_id}/edit/", data)
        return Outcome(
            page=matrix.landed(response),
            applied=lambda: fresh(study).study_description == "CT Head and Neck",
            typed=kept("study_description", "CT Head and Neck"),
            links=[f"/studies/{study.study_id}/"],
        )

    matrix.run(action)


def test_mark_complete_and_reopen(matrix: Matrix) -> None:
    def action(index: int, fault: Fault) -> Outcome:
        # Mark complete and reopen take turns (one view, one call).
        before, after = ("incomplete", "complete")[:: 1 if index % 2 else -1]
        study = matrix.factory.study(study_viewer_status=before)
        matrix.arm(fault, "PATCH", STUDIES)
        url = f"/studies/{study.study_id}/status/"
        response = matrix.client.post(url, {"study_viewer_status": after})
        return Outcome(
            page=matrix.landed(response),
            applied=lambda: fresh(study).study_viewer_status == after,
            links=[f"/studies/{study.study_id}/"],
        )

    matrix.run(action)


@pytest.mark.parametrize("cancel", [True, False], ids=["cancel", "uncancel"])
def test_cancel_and_uncancel(matrix: Matrix, cancel: bool) -> None:
    verb = "cancel" if cancel else "uncancel"

    def action(index: int, fault: Fault) -> Outcome:
        study = matrix.factory.study(is_cancelled=not cancel)
        matrix.arm(fault, "POST", f"{STUDIES}/{verb}")
        response = matrix.client.post(f"/studies/{study.study_id}/{verb}/")
        return Outcome(
            page=matrix.landed(response),
            applied=lambda: fresh(study).is_cancelled == cancel,
            links=[f"/studies/{study.study_id}/"],
        )

    matrix.run(action)


# --- Open in Viewer: a link changes nothing, so a lost one is asked for once more -------------


def test_open_in_viewer(
    coordinator_client: Client,
    sandbox_factory: SandboxFactory,
    sandbox_faults: SandboxFaults,
    settings: Any,
    subtests: Any,
) -> None:
    settings.VIEWER_API_READ_BACK_SECONDS = 0.5
    for fault in FAULTS:
        with subtests.test(msg=fault.name):
            study = sandbox_factory.study()
            if fault.timeout:
                settings.VIEWER_API_TIMEOUT_SECONDS = fault.timeout
            sandbox_faults.arm(method="POST", path=f"{STUDIES}/reroute-url", **fault.options)
            try:
                response = coordinator_client.post(f"/studies/{study.study_id}/open/")
            finally:
                sandbox_faults.clear()
                settings.VIEWER_API_TIMEOUT_SECONDS = 15.0
            entry = AuditEntry.objects.order_by("-id").first()
            assert entry is not None
            refused = fault.options["fault"] == "rate_limit" or "outage" in fault.options
            if refused:
                assert response.status_code == 503
                assert "could not be opened in the Viewer" in html(response)
                assert entry.outcome == AuditEntry.Outcome.FAILURE
            else:
                assert response.status_code == 302
                token = response["Location"].rsplit("token=", 1)[1]
                digest = hashlib.sha256(token.encode()).hexdigest()
                assert SandboxViewerToken.objects.filter(token_hash=digest).exists()
                assert entry.outcome == AuditEntry.Outcome.SUCCESS


# --- A retry recognises its own study; changed input after a success is kept -----------------


OUTAGE = {"fault": "commit_then_fail", "mode": "status", "outage": 50}


def test_a_retry_recognises_its_own_study(
    coordinator_client: Client, sandbox_faults: SandboxFaults, settings: Any
) -> None:
    settings.VIEWER_API_READ_BACK_SECONDS = 0.5
    uid = random_uid()
    data = full_form(uid, "CT Abdomen")
    sandbox_faults.arm(method="POST", path=STUDIES, **OUTAGE)
    page = html(coordinator_client.post("/studies/new/", data))
    sandbox_faults.clear()
    assert "We could not confirm whether the study was created — check the study." in page
    assert input_value(page, "study_description") == "CT Abdomen"
    submission = Submission.objects.get(study_instance_uid=uid)
    assert submission.status == Submission.Status.UNCONFIRMED
    first = AuditEntry.objects.get()
    assert first.outcome == AuditEntry.Outcome.UNCONFIRMED
    unsent = html(coordinator_client.get("/studies/unsent/"))
    assert "Not confirmed" in unsent
    assert "CT Abdomen" in unsent

    response = coordinator_client.post(f"/studies/unsent/{submission.pk}/retry/")
    study = SandboxStudy.objects.get(study_instance_uid=uid)  # still exactly one
    assert response["Location"] == f"/studies/{study.study_id}/"
    detail = html(coordinator_client.get(response["Location"]))
    assert "The study was created (confirmed later): CT Abdomen, unassigned." in detail
    submission.refresh_from_db()
    assert submission.status == Submission.Status.CREATED
    assert submission.study_id == study.study_id
    first.refresh_from_db()
    assert first.outcome == AuditEntry.Outcome.SUCCESS
    assert first.study_id == study.study_id
    retry = AuditEntry.objects.exclude(pk=first.pk).get()
    assert retry.outcome == AuditEntry.Outcome.SUCCESS
    assert "confirmed later" in retry.error_message
    assert "We could not confirm" not in detail


def test_a_study_that_differs_is_a_real_duplicate_that_says_what_differs(
    coordinator_client: Client, sandbox_factory: SandboxFactory, sandbox_url: str
) -> None:
    uid = random_uid()
    existing = sandbox_factory.study(
        study_instance_uid=uid, study_description="CT Knee", severity="normal"
    )
    submission = unsent_attempt(uid, "CT Knee")
    response = coordinator_client.post(f"/studies/unsent/{submission.pk}/retry/")
    assert response["Location"] == f"/studies/{existing.study_id}/"
    page = html(coordinator_client.get(response["Location"]))
    assert "already exists, so nothing new was created." in page
    assert "It differs from what you entered in: severity, metadata." in page
    assert "confirmed later" not in page

    form = html(coordinator_client.post("/studies/new/", full_form(uid, "CT Knee")))
    assert "It differs from what you entered in: severity, metadata." in form
    assert f'href="/studies/{existing.study_id}/"' in form
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1


def test_changed_input_after_a_success_is_kept_and_offered_as_a_new_study(
    coordinator_client: Client, sandbox_url: str
) -> None:
    data = full_form(random_uid(), "CT Head")
    first = coordinator_client.post("/studies/new/", data)
    created = SandboxStudy.objects.get(study_instance_uid=data["study_instance_uid"])
    assert first["Location"] == f"/studies/{created.study_id}/"

    # Back, change the UID and the description, submit: the same token, other values.
    changed = {**data, "study_instance_uid": random_uid(), "study_description": "CT Neck"}
    page = html(coordinator_client.post("/studies/new/", changed))
    assert "This form had already created a study; what you changed has not been sent." in page
    assert f'href="/studies/{created.study_id}/"' in page
    assert input_value(page, "study_description") == "CT Neck"
    assert input_value(page, "study_instance_uid") == changed["study_instance_uid"]
    token = input_value(page, "token")
    assert token
    assert token != data["token"]
    assert not SandboxStudy.objects.filter(study_instance_uid=changed["study_instance_uid"])

    again = coordinator_client.post("/studies/new/", {**changed, "token": token})
    second = SandboxStudy.objects.get(study_instance_uid=changed["study_instance_uid"])
    assert again["Location"] == f"/studies/{second.study_id}/"
    assert SandboxStudy.objects.count() == 2

    # The same over htmx from the worklist: kept in place, with the link to the first one.
    quick = quick_form(random_uid(), "MR Spine")
    coordinator_client.post("/", quick, **HTMX)
    made = SandboxStudy.objects.get(study_instance_uid=quick["quick-study_instance_uid"])
    moved = {**quick, "quick-study_description": "MR Spine, whole"}
    fragment = html(coordinator_client.post("/", moved, **HTMX))
    assert "what you changed has not been sent" in fragment
    assert f'href="/studies/{made.study_id}/"' in fragment
    assert input_value(fragment, "quick-study_description") == "MR Spine, whole"
    assert input_value(fragment, "quick-token") != quick["quick-token"]
    assert SandboxStudy.objects.count() == 3


# --- Unconfirmed entries are completed by a later read --------------------------------------


def test_a_later_read_of_the_study_completes_an_unconfirmed_change(
    coordinator_client: Client,
    sandbox_factory: SandboxFactory,
    sandbox_faults: SandboxFaults,
    settings: Any,
) -> None:
    settings.VIEWER_API_READ_BACK_SECONDS = 0.5
    study = sandbox_factory.study(study_description="CT Head")
    data = edit_form(coordinator_client, study, "CT Head and Neck")
    sandbox_faults.arm(method="PATCH", path=STUDIES, **OUTAGE)
    page = html(coordinator_client.post(f"/studies/{study.study_id}/edit/", data))
    sandbox_faults.clear()
    assert "We could not confirm whether the changes were saved — check the study." in page
    assert f'<a href="/studies/{study.study_id}/">Check the study</a>' in page
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.UNCONFIRMED
    assert "CT Head" not in entry.expected_digest  # a digest, never the values

    detail = html(coordinator_client.get(f"/studies/{study.study_id}/"))
    entry.refresh_from_db()
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
    assert entry.error_message == CONFIRMED_LATER
    assert CONFIRMED_LATER in detail


def test_a_create_that_lands_after_the_read_back_is_confirmed_when_the_study_is_read(
    coordinator_client: Client, sandbox_faults: SandboxFaults, settings: Any
) -> None:
    settings.VIEWER_API_READ_BACK_SECONDS = 0.3
    settings.VIEWER_API_TIMEOUT_SECONDS = 1.0
    uid = random_uid()
    # The API creates the study 1.5 s after the request, long after the client gave up.
    sandbox_faults.arm("hang", seconds=1.5, method="POST", path=STUDIES)
    page = html(coordinator_client.post("/studies/new/", full_form(uid, "CT Late")))
    assert "We could not confirm whether the study was created" in page
    assert f'href="/studies/by-uid/{uid}/"' in page
    deadline = time.monotonic() + 10
    while not SandboxStudy.objects.filter(study_instance_uid=uid).exists():
        assert time.monotonic() < deadline, "the sandbox did not finish the hung create"
        time.sleep(0.1)
    settings.VIEWER_API_TIMEOUT_SECONDS = 15.0

    found = coordinator_client.get(f"/studies/by-uid/{uid}/")
    detail = html(coordinator_client.get(found["Location"]))
    assert "CT Late" in detail
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.SUCCESS
    assert entry.study_id == SandboxStudy.objects.get(study_instance_uid=uid).study_id
    submission = Submission.objects.get(study_instance_uid=uid)
    assert submission.status == Submission.Status.CREATED
