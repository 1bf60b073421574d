"""The Viewer API service module against the sandbox, over real HTTP (live_server).

Happy paths for every function, then the faults armed through the sandbox's fault endpoint:
commit-then-fail on create (502 and a dropped connection), a hang past a short client timeout,
500 then success and 429 with Retry-After on GETs, malformed JSON. Most tests give the client
a recording sleep so retries cost no real waiting; the timeout tests use the client built from
settings, as the app does.
"""

from __future__ import annotations

import logging
import time
import uuid

import httpx
import pytest

from sandbox.models import SandboxStudy
from studies import viewer_api
from studies.viewer_api import (
    NO_CUSTOMER,
    UNASSIGNED,
    AuthError,
    BadResponse,
    Conflict,
    CustomerFilters,
    InvalidRequest,
    NotFound,
    RateLimited,
    Severity,
    StudyCreate,
    StudyFilters,
    StudyUpdate,
    Unavailable,
    UserFilters,
    ViewerStatus,
)

pytestmark = pytest.mark.django_db(transaction=True)

STUDIES = "/v1/viewer/studies"


def new_uid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def studies_with(uid: str) -> int:
    return SandboxStudy.objects.filter(study_instance_uid=uid).count()


@pytest.fixture
def sleeps(sandbox_url, settings):
    """Install a client for the sandbox whose waits are recorded, not slept."""
    waits: list[float] = []
    viewer_api.set_client(
        viewer_api.ViewerAPI(
            base_url=sandbox_url, api_key=settings.VIEWER_API_KEY, sleep=waits.append
        )
    )
    yield waits
    viewer_api.set_client(None)


@pytest.fixture
def from_settings(sandbox_url):
    """The process client, built from settings (base URL pointed at the sandbox)."""
    viewer_api.set_client(None)
    yield
    viewer_api.set_client(None)


@pytest.fixture
def people(sandbox_factory):
    dana = sandbox_factory.user(
        first_name="Dana", last_name="Lee", email="dana.lee@clinic.example", suffix1="MD"
    )
    ada = sandbox_factory.user(
        first_name="Ada",
        last_name="Okafor",
        email="ada.okafor@clinic.example",
        level="admin",
        has_dashboard_access=True,
        invited_source="api",
    )
    return dana, ada


def create(**overrides) -> StudyCreate:
    values = {
        "severity": Severity.HIGH,
        "study_description": "CT Chest/Abdomen/Pelvis",
        "study_instance_uid": new_uid(),
    }
    values.update(overrides)
    return StudyCreate(**values)


def calls(caplog, method: str, template: str) -> list[str]:
    """The outcome (status or error) of each logged call of `method template`."""
    prefix = f"viewer_api {method} {template} status="
    return [
        r.getMessage().removeprefix(prefix).split()[0]
        for r in caplog.records
        if r.getMessage().startswith(prefix)
    ]


# --- Happy paths -------------------------------------------------------------------------------


def test_ping_through_the_client_built_from_settings(from_settings):
    assert viewer_api.ping() == (True, "reachable")


def test_study_lifecycle(from_settings, people, sandbox_factory, sandbox_url):
    dana, ada = people
    customer = sandbox_factory.customer(name="Northside Imaging", members=[dana])
    data = create(
        assigned_to=dana.user_id,
        express_customer_id=customer.customer_id,
        metadata={"ward": "ED", "Referring physician": "Dr. Ng"},
    )
    created = viewer_api.study_create(data=data)
    assert created.study_id.startswith("stu_")
    assert created.study_instance_uid == data.study_instance_uid
    assert created.study_description == "CT Chest/Abdomen/Pelvis"
    assert created.severity is Severity.HIGH
    assert created.study_viewer_status is ViewerStatus.INCOMPLETE
    assert created.is_cancelled is False
    assert created.assigned_to is not None
    assert created.assigned_to.display_name == "Dana Lee, MD"
    assert created.express_customer is not None
    assert created.express_customer.express_customer_name == "Northside Imaging"
    assert created.created_by_api_key is not None
    assert created.metadata == {"ward": "ED", "Referring physician": "Dr. Ng"}

    assert viewer_api.study_get(study_id=created.study_id) == created
    assert viewer_api.study_get_by_uid(study_instance_uid=data.study_instance_uid) == created

    updated = viewer_api.study_update(
        study_id=created.study_id,
        changes=StudyUpdate(
            severity=Severity.STAT,
            study_description="CT Chest, revised",
            study_viewer_status=ViewerStatus.COMPLETE,
            assigned_to=ada.user_id,
            metadata={"ward": "ICU"},
        ),
    )
    assert updated.severity is Severity.STAT
    assert updated.study_description == "CT Chest, revised"
    assert updated.study_viewer_status is ViewerStatus.COMPLETE
    assert updated.assigned_to is not None
    assert updated.assigned_to.user_id == ada.user_id
    assert updated.metadata == {"ward": "ICU"}

    cleared = viewer_api.study_update(
        study_id=created.study_id, changes=StudyUpdate(assigned_to=None, metadata=None)
    )
    assert cleared.assigned_to is None
    assert not cleared.metadata
    assert cleared.severity is Severity.STAT  # untouched

    assert viewer_api.study_cancel(study_id=created.study_id).success is True
    assert viewer_api.study_get(study_id=created.study_id).is_cancelled is True
    assert viewer_api.study_uncancel(study_id=created.study_id).success is True
    assert viewer_api.study_get(study_id=created.study_id).is_cancelled is False

    url = viewer_api.study_viewer_url(study_id=created.study_id)
    assert url.startswith(f"{sandbox_url}/_sandbox/viewer?token=")
    assert httpx.get(url, timeout=10).status_code == 200


def test_create_with_required_fields_only(sleeps):
    data = create(severity=Severity.NORMAL)
    study = viewer_api.study_create(data=data)
    assert study.assigned_to is None
    assert study.express_customer is None
    assert study.severity is Severity.NORMAL


def test_study_list_filters_and_pages(sleeps, people, sandbox_factory):
    dana, _ = people
    customer = sandbox_factory.customer()
    mine = sandbox_factory.study(
        assigned_to=dana, severity="stat", study_description="MRI Brain with contrast"
    )
    theirs = sandbox_factory.study(express_customer=customer, severity="high")
    cancelled = sandbox_factory.study(is_cancelled=True, study_viewer_status="complete")
    plain = sandbox_factory.study()

    def ids(**filters) -> set[str]:
        return {s.study_id for s in viewer_api.study_list(filters=StudyFilters(**filters)).items}

    assert ids() == {mine.study_id, theirs.study_id, cancelled.study_id, plain.study_id}
    assert ids(assigned_to=dana.user_id) == {mine.study_id}
    assert ids(assigned_to=UNASSIGNED) == {theirs.study_id, cancelled.study_id, plain.study_id}
    assert ids(express_customer_id=customer.customer_id) == {theirs.study_id}
    assert theirs.study_id not in ids(express_customer_id=NO_CUSTOMER)
    assert ids(is_cancelled=True) == {cancelled.study_id}
    assert cancelled.study_id not in ids(is_cancelled=False)
    assert ids(severity=Severity.STAT) == {mine.study_id}
    assert ids(study_viewer_status=ViewerStatus.COMPLETE) == {cancelled.study_id}
    assert ids(study_description="brain with") == {mine.study_id}

    pages = list(viewer_api.study_pages(filters=StudyFilters(limit=3)))
    assert [len(p.items) for p in pages] == [3, 1]
    assert pages[0].has_more is True
    assert pages[-1].next_cursor is None
    assert len({s.study_id for p in pages for s in p.items}) == 4


def test_users(sleeps, people):
    dana, ada = people
    listed = viewer_api.user_list(filters=UserFilters(email="ada.okafor@clinic.example"))
    assert [u.user_id for u in listed.items] == [ada.user_id]
    by_name = viewer_api.user_list(filters=UserFilters(first_name="an", last_name="lee"))
    assert [u.user_id for u in by_name.items] == [dana.user_id]
    admins = viewer_api.user_list(filters=UserFilters(level="admin", invited_source="api"))
    assert [u.user_id for u in admins.items] == [ada.user_id]
    first_page = viewer_api.user_list(filters=UserFilters(limit=1))
    assert len(first_page.items) == 1
    assert first_page.next_cursor is not None
    second_page = viewer_api.user_list(filters=UserFilters(limit=1), cursor=first_page.next_cursor)
    assert {first_page.items[0].user_id, second_page.items[0].user_id} == {
        dana.user_id,
        ada.user_id,
    }

    user = viewer_api.user_get(user_id=dana.user_id)
    assert (user.email, user.display_name, user.clinic_role) == (
        "dana.lee@clinic.example",
        "Dana Lee, MD",
        "Radiologist",
    )
    assert viewer_api.user_get_cached(user_id=dana.user_id).user_id == dana.user_id

    assert [u.user_id for u in viewer_api.user_search(query="okafor")] == [ada.user_id]
    assert [u.user_id for u in viewer_api.user_search(query="Ada Okafor")] == [ada.user_id]
    assert [u.user_id for u in viewer_api.user_search(query="dana.lee@clinic.example")] == [
        dana.user_id
    ]
    assert viewer_api.user_search(query="nobody-by-that-name") == []


def test_express_customers(sleeps, sandbox_factory):
    active = sandbox_factory.customer(name="Northside Imaging")
    inactive = sandbox_factory.customer(name="Old Clinic", is_active=False)
    listed = viewer_api.customer_list(filters=CustomerFilters(limit=1))
    assert len(listed.items) == 1
    assert listed.next_cursor is not None
    everyone = {c.express_customer_id: c for c in viewer_api.customers_all()}
    assert everyone.keys() == {active.customer_id, inactive.customer_id}
    customer = everyone[active.customer_id]
    assert (customer.express_customer_name, customer.is_active, customer.user_count) == (
        "Northside Imaging",
        True,
        0,
    )
    assert [c.express_customer_id for c in viewer_api.customers_active()] == [active.customer_id]


def test_the_seeded_sandbox_reads_cleanly(sleeps, sandbox_seeded):
    # Every seeded study, user and customer fits the response models.
    assert sum(len(p.items) for p in viewer_api.study_pages()) == sandbox_seeded.studies
    assert len(viewer_api.user_list(filters=UserFilters(limit=100)).items) == sandbox_seeded.users
    assert len(viewer_api.customers_all()) == sandbox_seeded.customers


# --- Errors the sandbox answers ----------------------------------------------------------------


def test_duplicate_uid_is_a_conflict_carrying_the_existing_study(sleeps):
    data = create()
    first = viewer_api.study_create(data=data)
    with pytest.raises(Conflict) as caught:
        viewer_api.study_create(data=create(study_instance_uid=data.study_instance_uid))
    assert caught.value.existing == first
    assert studies_with(data.study_instance_uid) == 1


def test_validation_errors_name_our_fields(sleeps, sandbox_factory):
    with pytest.raises(InvalidRequest) as caught:
        viewer_api.study_create(data=create(assigned_to="usr_" + "0" * 32))
    assert set(caught.value.field_errors) == {"assigned_to"}
    assert caught.value.status_code == 400

    deactivated = sandbox_factory.customer(is_active=False)
    data = create(express_customer_id=deactivated.customer_id)
    with pytest.raises(Conflict) as caught:
        viewer_api.study_create(data=data)
    assert caught.value.existing is None
    assert "deactivated" in caught.value.message
    assert studies_with(data.study_instance_uid) == 0


def test_unknown_ids_are_not_found(sleeps):
    missing = "stu_" + "0" * 32
    with pytest.raises(NotFound):
        viewer_api.study_get(study_id=missing)
    with pytest.raises(NotFound):
        viewer_api.study_get_by_uid(study_instance_uid=new_uid())
    with pytest.raises(NotFound):
        viewer_api.study_cancel(study_id=missing)
    with pytest.raises(NotFound):
        viewer_api.user_get(user_id="usr_" + "0" * 32)


def test_a_wrong_key_and_a_key_without_viewer_are_auth_errors(sandbox_url, sandbox_factory):
    sandbox_factory.api_key("viewer-disabled-key", is_viewer_enabled=False)
    try:
        viewer_api.set_client(viewer_api.ViewerAPI(base_url=sandbox_url, api_key="wrong-key"))
        with pytest.raises(AuthError) as caught:
            viewer_api.study_list()
        assert caught.value.status_code == 401
        assert viewer_api.ping() == (False, "AuthError")

        viewer_api.set_client(
            viewer_api.ViewerAPI(base_url=sandbox_url, api_key="viewer-disabled-key")
        )
        with pytest.raises(AuthError) as caught:
            viewer_api.study_list()
        assert caught.value.status_code == 403
    finally:
        viewer_api.set_client(None)


# --- Faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["status", "drop"])
def test_commit_then_fail_on_create_returns_the_one_study(
    sleeps, sandbox_faults, people, caplog, mode
):
    caplog.set_level(logging.INFO, logger="studies.viewer_api")
    dana, _ = people
    data = create(assigned_to=dana.user_id, metadata={"ward": "ED"})
    # Armed for two POSTs: one left over afterwards proves the client sent exactly one.
    sandbox_faults.arm("commit_then_fail", method="POST", path=STUDIES, mode=mode, count=2)

    study = viewer_api.study_create(data=data)

    assert study.study_instance_uid == data.study_instance_uid
    assert study.assigned_to is not None
    assert study.assigned_to.user_id == dana.user_id
    assert studies_with(data.study_instance_uid) == 1
    assert SandboxStudy.objects.get(study_instance_uid=data.study_instance_uid).study_id == (
        study.study_id
    )
    assert [fault["remaining"] for fault in sandbox_faults.armed()] == [1]
    expected = "502" if mode == "status" else "RemoteProtocolError"
    assert calls(caplog, "POST", STUDIES) == [expected]


def test_a_create_that_failed_before_committing_is_not_resent(sleeps, sandbox_faults):
    data = create()
    sandbox_faults.arm("status", method="POST", path=STUDIES, status=503, count=2)
    with pytest.raises(Unavailable):
        viewer_api.study_create(data=data)
    assert studies_with(data.study_instance_uid) == 0
    assert [fault["remaining"] for fault in sandbox_faults.armed()] == [1]

    sandbox_faults.clear()
    sandbox_faults.arm("rate_limit", method="POST", path=STUDIES, retry_after=1, count=2)
    with pytest.raises(RateLimited) as caught:
        viewer_api.study_create(data=data)
    assert caught.value.retry_after == 1.0
    assert [fault["remaining"] for fault in sandbox_faults.armed()] == [1]
    assert sleeps == []


def test_a_create_hanging_past_the_timeout_is_recovered_once_committed(
    from_settings, settings, sandbox_faults, caplog
):
    caplog.set_level(logging.INFO, logger="studies.viewer_api")
    settings.VIEWER_API_TIMEOUT_SECONDS = 1
    data = create(metadata={"ward": "ED"})
    # The sandbox waits 1.3 s and then creates the study; the client gives up at 1 s.
    sandbox_faults.arm("hang", method="POST", path=STUDIES, seconds=1.3)
    study = viewer_api.study_create(data=data)
    assert study.study_instance_uid == data.study_instance_uid
    assert studies_with(data.study_instance_uid) == 1
    # The client gave up at its timeout (no wall-clock bound: a busy machine stretches it).
    assert calls(caplog, "POST", STUDIES) == ["ReadTimeout"]
    assert calls(caplog, "GET", STUDIES + "/by-uid/{studyInstanceUid}")[-1] == "200"


def test_a_hang_past_the_timeout_is_read_back_not_resent(
    from_settings, settings, sandbox_faults, sandbox_factory, caplog
):
    caplog.set_level(logging.INFO, logger="studies.viewer_api")
    settings.VIEWER_API_TIMEOUT_SECONDS = 1
    settings.VIEWER_API_READ_BACK_SECONDS = 4
    study = sandbox_factory.study()
    sandbox_faults.arm("hang", method="POST", path=f"{STUDIES}/cancel", seconds=1.3)
    # The sandbox carries the one request out after its hang; reading back sees it done.
    assert viewer_api.study_cancel(study_id=study.study_id).success
    assert SandboxStudy.objects.get(pk=study.pk).is_cancelled
    assert calls(caplog, "POST", f"{STUDIES}/cancel") == ["ReadTimeout"]  # not retried
    assert calls(caplog, "GET", STUDIES + "/{studyId}")[-1] == "200"
    assert sandbox_faults.armed() == []


def test_a_get_hanging_past_the_timeout_is_retried(
    from_settings, settings, sandbox_faults, sandbox_factory, caplog
):
    caplog.set_level(logging.INFO, logger="studies.viewer_api")
    settings.VIEWER_API_TIMEOUT_SECONDS = 1
    study = sandbox_factory.study()
    sandbox_faults.arm("hang", method="GET", path=STUDIES, seconds=1.2)
    started = time.monotonic()
    assert viewer_api.study_get(study_id=study.study_id).study_id == study.study_id
    assert calls(caplog, "GET", STUDIES + "/{studyId}") == ["ReadTimeout", "200"]
    # Let the hung request finish before the test's tables are flushed.
    time.sleep(max(0.0, 1.5 - (time.monotonic() - started)))


def test_an_error_then_success_on_a_get_is_retried(sleeps, sandbox_faults, sandbox_factory):
    study = sandbox_factory.study()
    sandbox_faults.arm("status", method="GET", path=STUDIES, status=503)
    assert viewer_api.study_get(study_id=study.study_id).study_id == study.study_id
    assert len(sleeps) == 1
    assert sandbox_faults.armed() == []


def test_429_retry_after_is_really_waited_for(from_settings, sandbox_faults):
    sandbox_faults.arm("rate_limit", method="GET", path=STUDIES, retry_after=1)
    started = time.monotonic()
    assert viewer_api.study_list().items == []
    assert time.monotonic() - started >= 1.0


def test_malformed_json_is_a_bad_response(sleeps, sandbox_faults):
    sandbox_faults.arm("malformed_json", method="GET", path=STUDIES)
    with pytest.raises(BadResponse):
        viewer_api.study_list()
    assert sleeps == []


def test_latency_within_the_timeout_is_harmless(sleeps, sandbox_faults):
    sandbox_faults.arm("latency", method="GET", path=STUDIES, seconds=0.2)
    assert viewer_api.study_list().items == []
    assert sleeps == []


def test_client_logs_over_real_http_carry_no_patient_data_or_key(sleeps, people, settings, caplog):
    caplog.set_level(logging.DEBUG)
    dana, _ = people
    data = create(
        study_description="MRI Knee, patient Jane Roe",
        assigned_to=dana.user_id,
        metadata={"mrn": "MRN-77310042"},
    )
    viewer_api.study_create(data=data)
    viewer_api.study_get_by_uid(study_instance_uid=data.study_instance_uid)
    viewer_api.study_list(filters=StudyFilters(study_description="Jane Roe"))
    viewer_api.user_search(query="Dana Lee")
    viewer_api.user_search(query="dana.lee@clinic.example")

    secrets = [
        settings.VIEWER_API_KEY,
        data.study_instance_uid,
        "Jane Roe",
        "Jane+Roe",
        "MRN-77310042",
        "dana.lee",
        "Dana",
    ]
    client_side = [r for r in caplog.records if not r.name.startswith(("sandbox", "django.server"))]
    assert any(r.name == "studies.viewer_api" for r in client_side)
    for record in client_side:
        text = f"{record.getMessage()} {record.args!r}"
        for secret in secrets:
            assert secret not in text, (record.name, text)
