"""`sandbox_seed`: realistic, deterministic and idempotent demo data in the key's clinic."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from sandbox.enums import CLINIC_ROLES
from sandbox.models import (
    DEFAULT_CLINIC_ID,
    SandboxExpressCustomer,
    SandboxStudy,
    SandboxUser,
)
from sandbox.seed import seed_sandbox
from sandbox.validation import is_dicom_uid
from tests.sandbox.support import Api

pytestmark = pytest.mark.django_db


def run_seed() -> str:
    out = StringIO()
    call_command("sandbox_seed", stdout=out)
    return out.getvalue()


def test_the_command_seeds_once_and_only_once() -> None:
    first = run_seed()
    assert "30 users, 3 Express customers, 80 studies (113 rows created now)" in first
    second = run_seed()
    assert "30 users, 3 Express customers, 80 studies (0 rows created now)" in second
    assert SandboxUser.objects.count() == 30
    assert SandboxExpressCustomer.objects.count() == 3
    assert SandboxStudy.objects.count() == 80


def test_seeding_is_deterministic() -> None:
    seed_sandbox(users=10, studies=20)
    ids = set(SandboxStudy.objects.values_list("study_id", "study_instance_uid"))
    users = set(SandboxUser.objects.values_list("user_id", "email", "clinic_role"))
    SandboxStudy.objects.all().delete()
    SandboxExpressCustomer.objects.all().delete()
    SandboxUser.objects.all().delete()
    seed_sandbox(users=10, studies=20)
    assert set(SandboxStudy.objects.values_list("study_id", "study_instance_uid")) == ids
    assert set(SandboxUser.objects.values_list("user_id", "email", "clinic_role")) == users


def test_a_larger_run_adds_only_the_missing_rows() -> None:
    assert seed_sandbox(users=5, studies=10).created == 5 + 3 + 10
    result = seed_sandbox(users=5, studies=15)
    assert result.created == 5
    assert result.studies == 15


def test_the_seeded_data_is_varied_and_valid() -> None:
    seed_sandbox()
    users = list(SandboxUser.objects.all())
    studies = list(SandboxStudy.objects.select_related("assigned_to", "express_customer"))
    customers = list(SandboxExpressCustomer.objects.all())

    assert {u.clinic_id for u in users} == {DEFAULT_CLINIC_ID}
    assert [u.level for u in users].count("owner") == 1
    assert {"admin", "member"} <= {u.level for u in users}
    assert {u.clinic_role for u in users} <= set(CLINIC_ROLES)
    assert len({u.clinic_role for u in users}) >= 8
    assert len({u.email.lower() for u in users}) == len(users)
    assert any(u.suffix1 == "MD" for u in users)
    assert any(u.suffix2 for u in users)
    assert any(u.middle_name for u in users)
    assert all(
        u.phone_number.isdigit() and 10 <= len(u.phone_number) <= 15
        for u in users
        if u.phone_number
    )
    assert any(u.is_revoked for u in users)
    assert {u.invited_source for u in users} == {"api", "dashboard"}

    assert sorted(c.is_active for c in customers) == [False, True, True]
    assert all(c.members.exists() for c in customers)

    assert {s.severity for s in studies} == {"normal", "high", "stat"}
    assert {s.study_viewer_status for s in studies} == {"incomplete", "complete"}
    assert any(s.is_cancelled for s in studies)
    assert all((s.cancelled_at is not None) == s.is_cancelled for s in studies)
    assert any(s.assigned_to is None for s in studies)
    assert all(s.assigned_to is None or not s.assigned_to.is_revoked for s in studies)
    assert any(s.express_customer is None for s in studies)
    assert any(s.express_customer is not None for s in studies)
    assert all(is_dicom_uid(s.study_instance_uid) for s in studies)
    assert len({s.study_instance_uid for s in studies}) == len(studies)
    assert all(s.metadata and all(isinstance(v, str) for v in s.metadata.values()) for s in studies)
    assert len({s.study_description for s in studies}) >= 15
    assert len({s.created_at.date() for s in studies}) >= 7
    assert all(s.updated_at >= s.created_at for s in studies)


def test_the_seed_is_what_the_configured_key_sees(api: Api, settings: Any) -> None:
    run_seed()
    page = api.get("/v1/viewer/studies", {"limit": "100"}).json()
    assert len(page["studies"]) == 80
    assert page["hasMore"] is False
    assert len(api.get("/v1/viewer/users", {"limit": "100"}).json()["users"]) == 30
    assert len(api.get("/v1/express").json()["expressCustomers"]) == 3


def test_the_shared_fixtures_give_a_small_dataset(
    sandbox_seeded: Any, sandbox_factory: Any
) -> None:
    assert (sandbox_seeded.users, sandbox_seeded.customers, sandbox_seeded.studies) == (8, 3, 12)
    assert sandbox_factory.clinic_id == sandbox_seeded.clinic_id
