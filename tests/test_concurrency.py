"""Many coordinators creating the same study at once, through the sandbox over real HTTP.

Each thread has its own database connection, as another app instance would (script/test runs
this on SQLite and on PostgreSQL). The threads start together: they race through the app's
submission record and the sandbox's UID check, and exactly one study must come out.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, User

from studies import viewer_api
from studies.models import Submission
from studies.roles import COORDINATORS
from studies.submissions import Created, Duplicate, Outcome, submission_create
from studies.viewer_api import Severity, StudyCreate, StudyFilters
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)

UID = "1.2.826.0.1.3680043.10.1234.77"
INSTANCES = 6


def studies_with_uid() -> list[str]:
    """The IDs of the studies with UID, counted through the API."""
    listed = viewer_api.study_list(filters=StudyFilters(limit=100))
    assert listed.next_cursor is None
    return [study.study_id for study in listed.items if study.study_instance_uid == UID]


def test_the_same_uid_from_many_coordinators_at_once_gives_one_study(
    sandbox_url: str, coordinator: User
) -> None:
    coordinators = Group.objects.get(name=COORDINATORS)
    users = [coordinator]
    for n in range(1, INSTANCES):
        # No password: these never sign in, and hashing one costs a second here.
        user = User.objects.create(username=f"coordinator{n}")
        user.groups.add(coordinators)
        users.append(user)
    data = StudyCreate(
        severity=Severity.NORMAL,
        study_description="MR Knee",
        study_instance_uid=UID,
        metadata={"site": "North", "bodyPart": "Knee"},
    )

    def create(index: int) -> Outcome:
        # A form of its own (its own token) per coordinator: nothing ties the attempts together
        # but the Study Instance UID.
        return submission_create(user=users[index], token=uuid.uuid4(), data=data)

    outcomes = run_together(INSTANCES, create)

    assert [type(o) for o in outcomes].count(Created) == 1, outcomes
    assert [type(o) for o in outcomes].count(Duplicate) == INSTANCES - 1, outcomes
    (created,) = [o for o in outcomes if isinstance(o, Created)]
    assert {o.existing.study_id for o in outcomes if isinstance(o, Duplicate)} == {created.study_id}
    assert studies_with_uid() == [created.study_id]
    statuses = sorted(Submission.objects.values_list("status", flat=True))
    assert statuses == sorted(["created"] + ["rejected"] * (INSTANCES - 1))


def test_one_form_sent_from_many_tabs_at_once_gives_one_study(
    sandbox_url: str, coordinator: User
) -> None:
    token = uuid.uuid4()
    data = StudyCreate(
        severity=Severity.STAT, study_description="CT Head", study_instance_uid=UID, metadata={}
    )

    outcomes = run_together(
        INSTANCES, lambda index: submission_create(user=coordinator, token=token, data=data)
    )

    assert [type(o) for o in outcomes].count(Created) == 1, outcomes
    study_ids = {o.study_id for o in outcomes}
    assert len(study_ids) == 1, outcomes
    assert studies_with_uid() == list(study_ids)
    assert Submission.objects.count() == 1
