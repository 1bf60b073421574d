"""Wire compatibility: the official `avara` SDK 0.3.0 against the live sandbox, strict mode on.

Every endpoint the sandbox serves, every list filter, every page of a list with a small limit,
and each error status raising the SDK's matching exception class.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import avara
import httpx
import pytest
from django.utils import timezone

from sandbox.factories import SandboxFactory, make_api_key
from sandbox.models import SandboxStudy
from sandbox.seed import SeedResult

pytestmark = pytest.mark.django_db(transaction=True)

UID = "1.3.6.1.4.1.62853.20250130.1738242672936.234543143652"


def test_create_retrieve_update_and_retrieve_by_uid(
    sdk: avara.Avara, sandbox_factory: SandboxFactory
) -> None:
    dana = sandbox_factory.user(first_name="Dana", last_name="Lee", suffix1="MD")
    customer = sandbox_factory.customer(name="Harbor Urgent Care Network")

    created = sdk.viewer.studies.create(
        severity="stat",
        study_description="Brain MRI with Contrast",
        study_instance_uid=UID,
        assigned_to=dana.user_id,
        express_customer_id=customer.customer_id,
        metadata={"ward": "ED"},
    )
    assert created.study_id.startswith("stu_")
    assert created.study_viewer_status == "incomplete"
    assert created.is_cancelled is False
    assert created.assigned_to is not None
    assert created.assigned_to.suffix1 == "MD"
    assert created.express_customer is not None
    assert created.express_customer.express_customer_name == "Harbor Urgent Care Network"
    assert created.created_by_api_key is not None
    assert created.created_by_api_key.is_viewer_enabled is True
    assert created.created_at is not None
    assert created.created_at.utcoffset() == timedelta(0)

    assert sdk.viewer.studies.retrieve(created.study_id).to_dict() == created.to_dict()
    assert sdk.viewer.studies.retrieve_by_uid(UID).study_id == created.study_id

    updated = sdk.viewer.studies.update(
        created.study_id,
        severity="normal",
        study_description="Brain MRI without Contrast",
        study_viewer_status="complete",
        metadata={"ward": "ICU", "bed": "4"},
    )
    assert updated.severity == "normal"
    assert updated.study_viewer_status == "complete"
    assert updated.metadata == {"ward": "ICU", "bed": "4"}
    assert updated.assigned_to is not None

    # The SDK sends None as JSON null: unassign and clear (§2.1, §12.11).
    cleared = sdk.viewer.studies.update(created.study_id, assigned_to=None, metadata=None)  # type: ignore[arg-type]
    assert cleared.assigned_to is None
    assert cleared.metadata == {}
    assert sdk.viewer.studies.update(created.study_id).study_id == created.study_id


def test_cancel_uncancel_and_reroute_url(sdk: avara.Avara, sandbox_factory: SandboxFactory) -> None:
    study = sandbox_factory.study(study_instance_uid=UID)

    result = sdk.viewer.studies.cancel(study_id=study.study_id)
    assert result.success is True
    again = sdk.viewer.studies.cancel(study_instance_uid=UID)
    assert again.success is True
    assert again.message == "already cancelled"
    assert sdk.viewer.studies.retrieve(study.study_id).cancelled_at is not None

    url = sdk.viewer.studies.reroute_url(study_id=study.study_id).url
    page = httpx.get(url)
    assert page.status_code == 200
    assert "This is the sandbox, not the Avara Viewer." in page.text

    assert sdk.viewer.studies.uncancel(study_instance_uid=UID).success is True
    restored = sdk.viewer.studies.retrieve(study.study_id)
    assert restored.is_cancelled is False
    assert restored.cancelled_at is None


@pytest.mark.parametrize("limit", [3, 3.0])
def test_auto_pagination_walks_every_page(
    sdk: avara.Avara, sandbox_factory: SandboxFactory, limit: float
) -> None:
    now = timezone.now()
    made = [sandbox_factory.study(created_at=now - timedelta(minutes=i)) for i in range(10)]
    walked = [study.study_id for study in sdk.viewer.studies.list(limit=limit)]
    assert walked == [study.study_id for study in made]

    first = sdk.viewer.studies.list(limit=limit)
    assert len(first.studies) == 3
    assert first.has_more is True
    assert first.cursor
    pages = list(first.iter_pages())
    assert [len(page.studies) for page in pages] == [3, 3, 3, 1]
    assert pages[-1].has_more is False
    assert pages[-1].cursor is None


def test_every_study_filter(sdk: avara.Avara, sandbox_factory: SandboxFactory) -> None:
    dana = sandbox_factory.user()
    customer = sandbox_factory.customer()
    now = timezone.now()
    a = sandbox_factory.study(
        assigned_to=dana,
        severity="stat",
        study_description="CT Head without Contrast",
        created_at=now,
    )
    b = sandbox_factory.study(
        express_customer=customer,
        is_cancelled=True,
        severity="high",
        study_description="MRI Knee Right",
        created_at=now - timedelta(minutes=1),
    )
    c = sandbox_factory.study(
        study_viewer_status="complete",
        study_description="CT Chest/Abdomen/Pelvis",
        created_at=now - timedelta(minutes=2),
    )
    everything = {a.study_id, b.study_id, c.study_id}

    def ids(**params: Any) -> set[str]:
        return {study.study_id for study in sdk.viewer.studies.list(limit=2, **params)}

    assert ids() == everything
    assert ids(assigned_to=dana.user_id) == {a.study_id}
    assert ids(express_customer_id=customer.customer_id) == {b.study_id}
    assert ids(is_cancelled=True) == {b.study_id}
    assert ids(is_cancelled=False) == {a.study_id, c.study_id}
    assert ids(severity="stat") == {a.study_id}
    assert ids(severity="normal") == {c.study_id}
    assert ids(study_viewer_status="complete") == {c.study_id}
    assert ids(study_viewer_status="incomplete") == {a.study_id, b.study_id}
    assert ids(study_description="ct c") == {c.study_id}
    assert ids(study_description="CT") == {a.study_id, c.study_id}
    assert ids(severity="stat", is_cancelled=False, study_description="head") == {a.study_id}
    # Null filters only reach the wire through extra_query (§2.3).
    assert ids(extra_query={"assignedTo": "null"}) == {b.study_id, c.study_id}
    assert ids(extra_query={"expressCustomerId": "null"}) == {a.study_id, c.study_id}
    assert ids(extra_query={"isCancelled": "null"}) == everything
    # None and "" drop the parameter entirely.
    assert ids(assigned_to=None, study_description="") == everything


def test_users_list_filters_and_retrieve(
    sdk: avara.Avara, sandbox_seeded: SeedResult, sandbox_factory: SandboxFactory
) -> None:
    extra = sandbox_factory.user(
        first_name="Ximena",
        last_name="Castillo-Ortega",
        email="X.Castillo@Clinic.Example",
        invited_source="api",
        level="admin",
        has_dashboard_access=True,
        clinic_role="Pathologists' Assistant",
    )
    everyone = list(sdk.viewer.users.list(limit=3))
    assert len(everyone) == sandbox_seeded.users + 1
    assert len({user.user_id for user in everyone}) == len(everyone)
    assert [user.level for user in everyone].count("owner") == 1

    def ids(**params: Any) -> set[str]:
        return {user.user_id for user in sdk.viewer.users.list(limit=3, **params)}

    assert ids(email="x.castillo@clinic.example") == {extra.user_id}
    assert ids(first_name="xime") == {extra.user_id}
    assert ids(last_name="castillo-") == {extra.user_id}
    assert ids(level="owner") == {u.user_id for u in everyone if u.level == "owner"}
    assert ids(level="admin") == {u.user_id for u in everyone if u.level == "admin"}
    assert ids(invited_source="api") == {u.user_id for u in everyone if u.invited_source == "api"}
    assert ids(invited_source="dashboard") == {
        u.user_id for u in everyone if u.invited_source == "dashboard"
    }

    user = sdk.viewer.users.retrieve(extra.user_id)
    assert user.clinic_role == "Pathologists' Assistant"
    assert user.level == "admin"
    assert user.email == "X.Castillo@Clinic.Example"


def test_express_customers_list_and_retrieve(sdk: avara.Avara, sandbox_seeded: SeedResult) -> None:
    customers = list(sdk.express.list(limit=2))
    assert len(customers) == 3
    assert [c.is_active for c in customers].count(False) == 1
    for customer in customers:
        retrieved = sdk.express.retrieve(customer.express_customer_id)
        assert retrieved.to_dict() == customer.to_dict()
        assert retrieved.user_count >= 0


def test_every_error_status_raises_the_matching_exception(
    sdk: avara.Avara,
    sandbox_url: str,
    sandbox_factory: SandboxFactory,
    sandbox_faults: Any,
) -> None:
    existing = sandbox_factory.study(study_instance_uid=UID)

    with pytest.raises(avara.BadRequestError) as bad:
        sdk.viewer.studies.create(
            severity="urgent",  # type: ignore[arg-type]
            study_description="CT Head",
            study_instance_uid="1.02",
        )
    fields = {d["field"] for d in bad.value.body["error"]["details"]}  # type: ignore[index]
    assert fields == {"severity", "studyInstanceUid"}

    with pytest.raises(avara.BadRequestError):
        sdk.viewer.studies.cancel()
    with pytest.raises(avara.BadRequestError):
        sdk.viewer.studies.list(limit=0)

    wrong_key = avara.Avara(
        api_key="not-the-key", base_url=sandbox_url, _strict_response_validation=True
    )
    with pytest.raises(avara.AuthenticationError) as unauthorized:
        wrong_key.viewer.studies.list()
    assert unauthorized.value.body["error"]["code"] == "unauthorized"  # type: ignore[index]

    make_api_key("no-viewer", clinic_id=sandbox_factory.clinic_id, is_viewer_enabled=False)
    no_viewer = avara.Avara(api_key="no-viewer", base_url=sandbox_url, max_retries=0)
    with pytest.raises(avara.PermissionDeniedError):
        no_viewer.viewer.studies.list()
    assert [c.express_customer_id for c in no_viewer.express.list()] == []

    with pytest.raises(avara.NotFoundError):
        sdk.viewer.studies.retrieve("stu_" + "0" * 32)
    with pytest.raises(avara.NotFoundError):
        sdk.viewer.studies.retrieve_by_uid("1.2.3.4")
    with pytest.raises(avara.NotFoundError):
        sdk.viewer.users.retrieve("usr_" + "0" * 32)
    with pytest.raises(avara.NotFoundError):
        sdk.express.retrieve("cus_" + "0" * 32)

    with pytest.raises(avara.ConflictError) as conflict:
        sdk.viewer.studies.create(
            severity="normal", study_description="CT Head", study_instance_uid=UID
        )
    assert conflict.value.response.headers["x-should-retry"] == "false"
    with pytest.raises(avara.ConflictError):
        sdk.viewer.studies.uncancel(study_id=existing.study_id)

    sandbox_faults.arm("rate_limit", retry_after=1)
    with pytest.raises(avara.RateLimitError) as limited:
        sdk.viewer.studies.list()
    assert limited.value.response.headers["retry-after"] == "1"

    sandbox_faults.arm("status", status=503)
    with pytest.raises(avara.InternalServerError):
        sdk.viewer.studies.list()

    sandbox_faults.arm("hang", seconds=1)
    with pytest.raises(avara.APITimeoutError):
        sdk.viewer.studies.list(timeout=0.2)


def test_a_final_409_is_not_retried_by_a_default_client(
    sandbox_url: str, settings: Any, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.study(study_instance_uid=UID)
    default = avara.Avara(
        api_key=settings.VIEWER_API_KEY, base_url=sandbox_url, _strict_response_validation=True
    )
    started = time.monotonic()
    with pytest.raises(avara.ConflictError):
        default.viewer.studies.create(
            severity="normal", study_description="CT Head", study_instance_uid=UID
        )
    # Three attempts would have waited about 1-1.5 s in backoff (§1.6).
    assert time.monotonic() - started < 0.4


def test_commit_then_fail_leaves_the_study_for_a_lookup_by_uid(
    sandbox_url: str, settings: Any, sandbox_faults: Any
) -> None:
    """The worst case for duplicates (§1.6): the SDK retries the 502, meets the 409, and the
    study the first attempt created is found by its UID."""
    retrying = avara.Avara(
        api_key=settings.VIEWER_API_KEY, base_url=sandbox_url, _strict_response_validation=True
    )
    sandbox_faults.arm("commit_then_fail", method="POST", path="/v1/viewer/studies")
    with pytest.raises(avara.ConflictError):
        retrying.viewer.studies.create(
            severity="high", study_description="CT Head", study_instance_uid=UID
        )
    assert SandboxStudy.objects.filter(study_instance_uid=UID).count() == 1
    assert retrying.viewer.studies.retrieve_by_uid(UID).study_description == "CT Head"
