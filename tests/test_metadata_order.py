"""Metadata keeps the order it was typed in, on every database: the edit page lists it in the
order the API gives it back, and a retried submission sends it as first typed.

PostgreSQL's jsonb sorts object keys (shorter keys first); these keys are chosen so that any
sorting changes their order.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxExpressCustomer, SandboxStudy
from studies.models import Submission
from tests.sandbox.support import Api

TYPED = {"referringPhysician": "Dr Osei", "site": "North", "bodyPart": "Knee", "a": "1"}
RETYPED = {"zz": "2", "clinicalHistory": "Fall", "b": "3"}
STUDIES = "/v1/viewer/studies"

pytestmark = pytest.mark.django_db


def keys(mapping: dict[str, Any]) -> list[str]:
    return list(mapping)


def test_the_sandbox_gives_metadata_back_in_the_order_it_was_sent(
    client: Client, settings: Any
) -> None:
    api = Api(client, settings.VIEWER_API_KEY)
    body = {
        "severity": "normal",
        "studyDescription": "MR Knee",
        "studyInstanceUid": "1.2.826.0.1.3680043.10.1234.78",
        "metadata": TYPED,
    }
    created = api.post(STUDIES, body)
    assert created.status_code == 201, created.content
    study_id = created.json()["studyId"]
    assert keys(api.get(f"{STUDIES}/{study_id}").json()["metadata"]) == keys(TYPED)
    assert keys(SandboxStudy.objects.get(pk=study_id).metadata) == keys(TYPED)

    changed = api.patch(f"{STUDIES}/{study_id}", {"metadata": RETYPED})
    assert changed.status_code == 200, changed.content
    assert keys(changed.json()["metadata"]) == keys(RETYPED)
    assert keys(api.get(f"{STUDIES}/{study_id}").json()["metadata"]) == keys(RETYPED)


def test_express_customer_metadata_keeps_its_order(sandbox_factory: SandboxFactory) -> None:
    customer = sandbox_factory.customer(name="Lakeside", metadata=TYPED)
    assert keys(SandboxExpressCustomer.objects.get(pk=customer.pk).metadata) == keys(TYPED)


def test_a_kept_submission_keeps_the_metadata_order(coordinator: User) -> None:
    payload = {"studyInstanceUid": "1.2.3", "metadata": TYPED}
    submission = Submission.objects.create(
        created_by=coordinator, study_instance_uid="1.2.3", payload=payload
    )
    submission.refresh_from_db()
    assert submission.payload == payload
    assert keys(submission.payload["metadata"]) == keys(TYPED)
