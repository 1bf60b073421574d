"""The sandbox's own tables: API keys, users, Express customers, studies, viewer links, faults.

Every row that the Viewer API exposes belongs to one clinic (`clinic_id`), and every query the
views make is scoped to the calling key's clinic (§12.20). Public IDs are the primary keys, in the
formats of §3 (`stu_`, `usr_`, `cus_` + 32 lowercase hex characters).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from sandbox.enums import (
    CLINIC_ROLES,
    INVITED_SOURCES,
    SEVERITIES,
    STUDY_VIEWER_STATUSES,
    USER_LEVELS,
    choices,
)
from viewer_admin.fields import OrderedJSONField

# The clinic that the configured VIEWER_API_KEY belongs to (and that `sandbox_seed` fills).
DEFAULT_CLINIC_ID = uuid.UUID("6a1f3c52-0d7e-4b8a-9c41-2f5e8d9b7a10")


def now_ms() -> datetime:
    """The current UTC time truncated to milliseconds, the precision the wire shows (§12.21)."""
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    """A fresh public ID: the prefix, an underscore and 32 lowercase hex characters (§3)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def new_study_id() -> str:
    return new_id("stu")


def new_user_id() -> str:
    return new_id("usr")


def new_customer_id() -> str:
    return new_id("cus")


def new_fault_id() -> str:
    return new_id("flt")


class SandboxApiKey(models.Model):
    """A bearer key the sandbox accepts (§12.20). Only a SHA-256 hash of the key is stored.

    The row for the configured `VIEWER_API_KEY` is created on first use (`from_settings`) and is
    accepted only while the setting still holds that key; other rows are extra keys (for example
    a second clinic, or a key with the Viewer product disabled) and are always accepted.
    """

    api_key_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key_hash = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200)
    clinic_id = models.UUIDField(db_index=True)
    is_viewer_enabled = models.BooleanField(default=True)
    from_settings = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now_ms)

    class Meta:
        verbose_name = "sandbox API key"

    def __str__(self) -> str:
        return f"{self.description} ({self.api_key_id})"


class SandboxUser(models.Model):
    """A Viewer user of one clinic (§4.3 User). Optional names are stored as "" and sent as null.

    `is_revoked` is kept internally (the user object has no status field, §12.15): a revoked
    user stays listed and retrievable but cannot be assigned (§12.10).
    """

    user_id = models.CharField(primary_key=True, max_length=36, default=new_user_id)
    clinic_id = models.UUIDField(db_index=True)
    email = models.CharField(max_length=254)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True, default="")
    suffix1 = models.CharField(max_length=100, blank=True, default="")
    suffix2 = models.CharField(max_length=100, blank=True, default="")
    phone_number = models.CharField(max_length=15, blank=True, default="")
    level = models.CharField(max_length=16, choices=choices(USER_LEVELS), default="member")
    clinic_role = models.CharField(max_length=64, choices=choices(CLINIC_ROLES), default="Other")
    can_manage_studies = models.BooleanField(default=False)
    has_dashboard_access = models.BooleanField(default=False)
    invited_source = models.CharField(
        max_length=16, choices=choices(INVITED_SOURCES), default="dashboard"
    )
    is_revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now_ms)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sandbox user"
        indexes = [models.Index(fields=["clinic_id", "-created_at", "-user_id"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>"


class SandboxExpressCustomer(models.Model):
    """An Express customer of one clinic (§10). `userCount` is the number of `members`."""

    customer_id = models.CharField(primary_key=True, max_length=36, default=new_customer_id)
    clinic_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    metadata = OrderedJSONField(default=dict, blank=True)
    members = models.ManyToManyField(SandboxUser, blank=True, related_name="express_customers")
    created_by_api_key_id = models.UUIDField(null=True, blank=True)
    created_by_user_id = models.CharField(max_length=36, blank=True, default="")
    created_at = models.DateTimeField(default=now_ms)
    updated_at = models.DateTimeField(default=now_ms)

    class Meta:
        verbose_name = "sandbox Express customer"
        indexes = [models.Index(fields=["clinic_id", "-created_at", "-customer_id"])]

    def __str__(self) -> str:
        return self.name


class SandboxStudy(models.Model):
    """A Viewer study of one clinic (§4.3 Study). Study Instance UIDs are unique per clinic."""

    study_id = models.CharField(primary_key=True, max_length=36, default=new_study_id)
    clinic_id = models.UUIDField()
    study_instance_uid = models.CharField(max_length=64)
    study_description = models.TextField()
    severity = models.CharField(max_length=16, choices=choices(SEVERITIES))
    study_viewer_status = models.CharField(
        max_length=16, choices=choices(STUDY_VIEWER_STATUSES), default="incomplete"
    )
    is_cancelled = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        SandboxUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        SandboxApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_user = models.ForeignKey(
        SandboxUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    express_customer = models.ForeignKey(
        SandboxExpressCustomer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="studies",
    )
    metadata = OrderedJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now_ms)
    updated_at = models.DateTimeField(default=now_ms)

    class Meta:
        verbose_name = "sandbox study"
        verbose_name_plural = "sandbox studies"
        constraints = [
            models.UniqueConstraint(
                fields=["clinic_id", "study_instance_uid"], name="sandbox_unique_uid_per_clinic"
            )
        ]
        indexes = [models.Index(fields=["clinic_id", "-created_at", "-study_id"])]

    def __str__(self) -> str:
        return f"{self.study_id} {self.study_description}"


class SandboxViewerToken(models.Model):
    """A token of a reroute URL (§12.13): it opens the placeholder viewer page until it expires.

    Only a SHA-256 hash of the token is stored.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    study = models.ForeignKey(SandboxStudy, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now_ms)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "sandbox viewer token"

    def __str__(self) -> str:
        return f"viewer token for {self.study_id}"


class SandboxFault(models.Model):
    """An armed fault: the next `remaining` requests that match `method` and `path` misbehave
    (a persistent latency, `options["persistent"]`, every one of them until disarmed). `applied`
    counts the requests it was applied to.

    Stored in the database so that any thread or process can arm a fault that the server then
    applies (see `sandbox.faults`).
    """

    class Kind(models.TextChoices):
        LATENCY = "latency"
        HANG = "hang"
        STATUS = "status"
        RATE_LIMIT = "rate_limit"
        MALFORMED_JSON = "malformed_json"
        COMMIT_THEN_FAIL = "commit_then_fail"

    fault_id = models.CharField(primary_key=True, max_length=36, default=new_fault_id)
    kind = models.CharField(max_length=32, choices=Kind)
    method = models.CharField(max_length=10, blank=True, default="")
    path = models.CharField(max_length=200, blank=True, default="")
    count = models.PositiveIntegerField(default=1)
    remaining = models.PositiveIntegerField(default=1)
    applied = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now_ms)

    class Meta:
        verbose_name = "sandbox fault"
        ordering = ["created_at", "fault_id"]

    def __str__(self) -> str:
        return f"{self.kind} x{self.remaining} {self.method or '*'} {self.path or '/v1'}"
