"""Small factories that put rows straight into the sandbox's tables, for tests and demos.

Every factory defaults to the clinic of the configured `VIEWER_API_KEY` (`DEFAULT_CLINIC_ID`),
so what it creates is visible through the API with that key. Fields can be overridden by
keyword, using the model's field names (e.g. `make_study(severity="stat", is_cancelled=True)`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sandbox.auth import hash_key, settings_key
from sandbox.models import (
    DEFAULT_CLINIC_ID,
    SandboxApiKey,
    SandboxExpressCustomer,
    SandboxStudy,
    SandboxUser,
    now_ms,
)


def random_uid() -> str:
    """A fresh valid DICOM UID under the UUID-derived root `2.25` (at most 44 characters)."""
    return f"2.25.{uuid.uuid4().int}"


def make_api_key(
    raw_key: str,
    *,
    clinic_id: uuid.UUID | None = None,
    description: str = "Sandbox test key",
    is_viewer_enabled: bool = True,
) -> SandboxApiKey:
    """An extra key the sandbox accepts, in a new clinic unless `clinic_id` is given."""
    return SandboxApiKey.objects.create(
        key_hash=hash_key(raw_key),
        description=description,
        clinic_id=clinic_id or uuid.uuid4(),
        is_viewer_enabled=is_viewer_enabled,
    )


def make_user(*, clinic_id: uuid.UUID | None = None, **fields: Any) -> SandboxUser:
    """A Viewer user; by default a member radiologist who can manage studies."""
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "clinic_id": clinic_id or DEFAULT_CLINIC_ID,
        "email": f"user-{suffix}@clinic.example",
        "first_name": "Test",
        "last_name": f"User {suffix}",
        "level": "member",
        "clinic_role": "Radiologist",
        "can_manage_studies": True,
        "has_dashboard_access": False,
        "invited_source": "dashboard",
        **fields,
    }
    return SandboxUser.objects.create(**values)


def make_customer(
    *,
    clinic_id: uuid.UUID | None = None,
    members: Iterable[SandboxUser] = (),
    **fields: Any,
) -> SandboxExpressCustomer:
    """An Express customer, active by default, with the given users as members."""
    values: dict[str, Any] = {
        "clinic_id": clinic_id or DEFAULT_CLINIC_ID,
        "name": f"Customer {uuid.uuid4().hex[:6]}",
        "is_active": True,
        **fields,
    }
    customer = SandboxExpressCustomer.objects.create(**values)
    customer.members.set(list(members))
    return customer


def make_study(*, clinic_id: uuid.UUID | None = None, **fields: Any) -> SandboxStudy:
    """A study with a fresh UID; `is_cancelled=True` also sets `cancelled_at` unless given."""
    now = now_ms()
    values: dict[str, Any] = {
        "clinic_id": clinic_id or DEFAULT_CLINIC_ID,
        "study_instance_uid": random_uid(),
        "study_description": "CT Head without Contrast",
        "severity": "normal",
        "study_viewer_status": "incomplete",
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    if values.get("is_cancelled") and "cancelled_at" not in values:
        values["cancelled_at"] = values["updated_at"]
    return SandboxStudy.objects.create(**values)


class SandboxFactory:
    """The factories bound to one clinic (the `sandbox_factory` test fixture)."""

    def __init__(self, clinic_id: uuid.UUID | None = None) -> None:
        key = settings_key()
        self.clinic_id: uuid.UUID = clinic_id or (key.clinic_id if key else DEFAULT_CLINIC_ID)

    def user(self, **fields: Any) -> SandboxUser:
        return make_user(clinic_id=self.clinic_id, **fields)

    def customer(
        self, members: Iterable[SandboxUser] = (), **fields: Any
    ) -> SandboxExpressCustomer:
        return make_customer(clinic_id=self.clinic_id, members=members, **fields)

    def study(self, **fields: Any) -> SandboxStudy:
        return make_study(clinic_id=self.clinic_id, **fields)

    def api_key(self, raw_key: str, **fields: Any) -> SandboxApiKey:
        """An extra key; in this factory's clinic unless `clinic_id` is given."""
        fields.setdefault("clinic_id", self.clinic_id)
        return make_api_key(raw_key, **fields)
