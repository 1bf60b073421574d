"""The create answers the study it stored, exactly as reading it back shows it (the create
does not read its row again), and a duplicate UID is caught by the database's constraint."""

from __future__ import annotations

import pytest

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxStudy
from tests.sandbox.support import Api, assert_error

STUDIES = "/v1/viewer/studies"
UID = "1.2.840.113619.2.55.3.7"


@pytest.mark.parametrize("referenced", [True, False])
def test_the_create_answer_is_what_a_read_shows(
    api: Api, sandbox_factory: SandboxFactory, referenced: bool
) -> None:
    body: dict[str, object] = {
        "severity": "stat",
        "studyDescription": "MR Knee",
        "studyInstanceUid": UID,
        # Keys out of alphabetical order: the answer keeps the order they were sent in.
        "metadata": {"ward": "ED", "bed": "4", "accession": "A-1"},
    }
    if referenced:
        user = sandbox_factory.user(middle_name="Ann")
        body["assignedTo"] = user.user_id.upper().replace("USR_", "usr_")
        body["expressCustomerId"] = sandbox_factory.customer().customer_id

    created = api.post(STUDIES, body)

    assert created.status_code == 201, created.content
    read = api.get(f"{STUDIES}/{created.json()['studyId']}")
    assert read.status_code == 200
    assert created.json() == read.json()
    assert list(created.json()["metadata"]) == ["ward", "bed", "accession"]
    assert (created.json()["assignedTo"] is not None) is referenced


def test_a_second_create_with_the_uid_is_refused_and_stores_nothing(api: Api) -> None:
    body = {"severity": "high", "studyDescription": "CT", "studyInstanceUid": UID}
    assert api.post(STUDIES, body).status_code == 201

    again = api.post(STUDIES, {**body, "studyDescription": "Other"})

    assert_error(again, 409, "conflict", "studyInstanceUid")
    assert SandboxStudy.objects.get().study_description == "CT"
