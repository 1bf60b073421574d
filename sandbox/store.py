"""Reads and writes of sandbox data, always scoped to one clinic (§12.20).

The rules of §12 that need the database live here: list order and offset pages (§12.4-12.6),
filters (§12.7/§12.8), initial and derived study state (§12.9), referential checks (§12.10),
metadata replacement (§12.11), study identification for the actions (§12.12) and reroute tokens
(§12.13).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from contextlib import nullcontext
from datetime import timedelta
from typing import Final, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Count, Model, QuerySet

from sandbox.errors import Conflict, FieldError, NotFound, ValidationFailed
from sandbox.models import (
    SandboxApiKey,
    SandboxExpressCustomer,
    SandboxStudy,
    SandboxUser,
    SandboxViewerToken,
    now_ms,
)
from sandbox.validation import (
    PageRequest,
    StudyChanges,
    StudyCreate,
    StudyFilters,
    StudyLocator,
    UserFilters,
    encode_cursor,
)

REROUTE_TOKEN_LIFETIME: Final = timedelta(minutes=5)  # §12.13

M = TypeVar("M", bound=Model)


# --- Paging (§5, §12.4-12.6) -----------------------------------------------------------------


def paginate(queryset: QuerySet[M], page: PageRequest) -> tuple[list[M], str | None]:
    """One page of an already ordered queryset, and the next cursor (None on the last page).

    One extra row is read to know whether more follow, so a page is never empty while more
    items exist and `hasMore` is exact.
    """
    rows = list(queryset[page.offset : page.offset + page.limit + 1])
    if len(rows) > page.limit:
        return rows[: page.limit], encode_cursor(page.offset + page.limit)
    return rows, None


# --- Studies ---------------------------------------------------------------------------------


def studies(clinic_id: uuid.UUID) -> QuerySet[SandboxStudy]:
    """The clinic's studies, newest first with ID descending as the tiebreak (§12.4)."""
    return (
        SandboxStudy.objects.filter(clinic_id=clinic_id)
        .select_related("assigned_to", "created_by_api_key", "created_by_user", "express_customer")
        .order_by("-created_at", "-study_id")
    )


def filter_studies(
    queryset: QuerySet[SandboxStudy], filters: StudyFilters
) -> QuerySet[SandboxStudy]:
    """§6.4 filters with §12.7/§12.8 semantics."""
    if filters.assigned_to is not None:
        queryset = queryset.filter(assigned_to_id=filters.assigned_to.value)
    if filters.express_customer_id is not None:
        queryset = queryset.filter(express_customer_id=filters.express_customer_id.value)
    if filters.is_cancelled is not None:
        queryset = queryset.filter(is_cancelled=filters.is_cancelled)
    if filters.severity is not None:
        queryset = queryset.filter(severity=filters.severity)
    if filters.study_viewer_status is not None:
        queryset = queryset.filter(study_viewer_status=filters.study_viewer_status)
    if filters.study_description is not None:
        queryset = queryset.filter(study_description__icontains=filters.study_description)
    return queryset


def get_study(clinic_id: uuid.UUID, study_id: str) -> SandboxStudy:
    study = studies(clinic_id).filter(study_id=study_id).first()
    if study is None:
        raise NotFound(f"No study with studyId {study_id}.")
    return study


def get_study_by_uid(clinic_id: uuid.UUID, uid: str) -> SandboxStudy:
    study = studies(clinic_id).filter(study_instance_uid=uid).first()
    if study is None:
        raise NotFound(f"No study with studyInstanceUid {uid}.")
    return study


def locate_study(clinic_id: uuid.UUID, locator: StudyLocator) -> SandboxStudy:
    """§12.12: by either field; both naming different studies → 400; nothing matches → 404."""
    by_id = by_uid = None
    if locator.study_id is not None:
        by_id = studies(clinic_id).filter(study_id=locator.study_id).first()
    if locator.study_instance_uid is not None:
        by_uid = studies(clinic_id).filter(study_instance_uid=locator.study_instance_uid).first()
    if locator.study_id is not None and locator.study_instance_uid is not None:
        if by_id is None and by_uid is None:
            raise NotFound("No study matches studyId or studyInstanceUid.")
        if by_id is None or by_uid is None or by_id.pk != by_uid.pk:
            message = "studyId and studyInstanceUid do not name the same study"
            raise ValidationFailed(
                f"{message}.",
                [FieldError("studyId", message), FieldError("studyInstanceUid", message)],
            )
        return by_id
    study = by_id or by_uid
    if study is None:
        field = "studyId" if locator.study_id is not None else "studyInstanceUid"
        raise NotFound(f"No study matches {field}.")
    return study


def resolve_assignee(clinic_id: uuid.UUID, user_id: str) -> SandboxUser:
    """§12.10: an unknown user or one whose access is revoked → 400. `canManageStudies` is not
    required of an assignee."""
    user = SandboxUser.objects.filter(clinic_id=clinic_id, user_id=user_id).first()
    if user is None:
        message = f"no user {user_id} in this clinic"
    elif user.is_revoked:
        message = f"user {user_id} has had their access revoked"
    else:
        return user
    raise ValidationFailed(f"assignedTo: {message}.", [FieldError("assignedTo", message)])


def resolve_customer(clinic_id: uuid.UUID, customer_id: str) -> SandboxExpressCustomer:
    """§12.10: an unknown Express customer → 400; a deactivated one → 409 (no retry)."""
    customer = SandboxExpressCustomer.objects.filter(
        clinic_id=clinic_id, customer_id=customer_id
    ).first()
    if customer is None:
        message = f"no Express customer {customer_id} in this clinic"
        raise ValidationFailed(
            f"expressCustomerId: {message}.", [FieldError("expressCustomerId", message)]
        )
    if not customer.is_active:
        message = f"Express customer {customer_id} is deactivated and cannot take new studies"
        raise Conflict(f"{message}.", [FieldError("expressCustomerId", message)])
    return customer


def _duplicate_uid(uid: str) -> Conflict:
    message = f"a study with studyInstanceUid {uid} already exists"
    return Conflict(
        f"{message[0].upper()}{message[1:]}.", [FieldError("studyInstanceUid", message)]
    )


def create_study(key: SandboxApiKey, data: StudyCreate) -> SandboxStudy:
    """§6.1 with §12.3 (a duplicate UID, cancelled or not, → 409) and §12.9 (initial state)."""
    clinic_id = key.clinic_id
    assignee = resolve_assignee(clinic_id, data.assigned_to) if data.assigned_to else None
    customer = (
        resolve_customer(clinic_id, data.express_customer_id) if data.express_customer_id else None
    )
    # A duplicate UID is caught by the unique constraint (one query fewer than looking first).
    now = now_ms()
    # In autocommit (a request) a failed INSERT leaves nothing to roll back: no transaction
    # around it. Inside one (a test's) a savepoint keeps it usable after the IntegrityError.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            study = SandboxStudy.objects.create(
                clinic_id=clinic_id,
                study_instance_uid=data.study_instance_uid,
                study_description=data.study_description,
                severity=data.severity,
                study_viewer_status="incomplete",
                is_cancelled=False,
                cancelled_at=None,
                assigned_to=assignee,
                created_by_api_key=key,
                created_by_user=None,
                express_customer=customer,
                metadata=data.metadata,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        raise _duplicate_uid(data.study_instance_uid) from None
    # Its references are the rows just loaded, its times already at the wire's precision and
    # its metadata stored as given (`OrderedJSONField`): what reading it back would give.
    return study


def update_study(study: SandboxStudy, changes: StudyChanges) -> SandboxStudy:
    """§6.3 with §12.11: given fields replace, `metadata` replaces the whole map, and
    `updatedAt` changes whenever the body carries a field (§12.9)."""
    if changes.is_empty:
        return study
    if changes.set_assignee:
        study.assigned_to = (
            resolve_assignee(study.clinic_id, changes.assigned_to) if changes.assigned_to else None
        )
    if changes.severity is not None:
        study.severity = changes.severity
    if changes.study_description is not None:
        study.study_description = changes.study_description
    if changes.study_viewer_status is not None:
        study.study_viewer_status = changes.study_viewer_status
    if changes.metadata is not None:
        study.metadata = changes.metadata
    study.updated_at = now_ms()
    study.save()
    return get_study(study.clinic_id, study.study_id)


def cancel_study(study: SandboxStudy) -> bool:
    """Set the cancelled flag (§6.5, §12.9). False when the study was already cancelled."""
    if study.is_cancelled:
        return False
    now = now_ms()
    study.is_cancelled = True
    study.cancelled_at = now
    study.updated_at = now
    study.save(update_fields=["is_cancelled", "cancelled_at", "updated_at"])
    return True


def uncancel_study(study: SandboxStudy) -> None:
    """Clear the cancelled flag (§6.6); the study must be cancelled → otherwise 409 (§12.12)."""
    if not study.is_cancelled:
        message = "the study is not cancelled, so it cannot be uncancelled"
        raise Conflict(f"{message[0].upper()}{message[1:]}.")
    study.is_cancelled = False
    study.cancelled_at = None
    study.updated_at = now_ms()
    study.save(update_fields=["is_cancelled", "cancelled_at", "updated_at"])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_viewer_token(study: SandboxStudy) -> str:
    """A random token for a reroute URL, valid for 5 minutes (§12.13). Only its hash is kept."""
    token = secrets.token_urlsafe(32)
    now = now_ms()
    SandboxViewerToken.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    SandboxViewerToken.objects.create(
        token_hash=token_hash(token),
        study=study,
        created_at=now,
        expires_at=now + REROUTE_TOKEN_LIFETIME,
    )
    return token


def find_viewer_token(token: str) -> SandboxViewerToken | None:
    return (
        SandboxViewerToken.objects.select_related("study")
        .filter(token_hash=token_hash(token))
        .first()
    )


# --- Users and Express customers -------------------------------------------------------------


def users(clinic_id: uuid.UUID) -> QuerySet[SandboxUser]:
    """The clinic's users, revoked ones included (§12.15), newest first (§12.4)."""
    return SandboxUser.objects.filter(clinic_id=clinic_id).order_by("-created_at", "-user_id")


def filter_users(queryset: QuerySet[SandboxUser], filters: UserFilters) -> QuerySet[SandboxUser]:
    """§7.3 filters with §12.8 matching: exact email, substring names, all case-insensitive."""
    if filters.email is not None:
        queryset = queryset.filter(email__iexact=filters.email)
    if filters.first_name is not None:
        queryset = queryset.filter(first_name__icontains=filters.first_name)
    if filters.last_name is not None:
        queryset = queryset.filter(last_name__icontains=filters.last_name)
    if filters.invited_source is not None:
        queryset = queryset.filter(invited_source=filters.invited_source)
    if filters.level is not None:
        queryset = queryset.filter(level=filters.level)
    return queryset


def get_user(clinic_id: uuid.UUID, user_id: str) -> SandboxUser:
    user = users(clinic_id).filter(user_id=user_id).first()
    if user is None:
        raise NotFound(f"No user with userId {user_id}.")
    return user


def customers(clinic_id: uuid.UUID) -> QuerySet[SandboxExpressCustomer]:
    """The clinic's Express customers with their `user_count`, newest first (§12.4)."""
    return (
        SandboxExpressCustomer.objects.filter(clinic_id=clinic_id)
        .annotate(user_count=Count("members"))
        .order_by("-created_at", "-customer_id")
    )


def get_customer(clinic_id: uuid.UUID, customer_id: str) -> SandboxExpressCustomer:
    customer = customers(clinic_id).filter(customer_id=customer_id).first()
    if customer is None:
        raise NotFound(f"No Express customer with expressCustomerId {customer_id}.")
    return customer
