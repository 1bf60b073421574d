"""Rows to wire JSON, in the shapes of §4.2/§4.3/§10 and the checklist of §14.

Every required key is always present and non-null; optional keys are always sent, as null when
there is no value; `metadata` is always an object (`{}` when empty, §12.11); timestamps are
RFC 3339 UTC with milliseconds and a `Z` (§12.21).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.models import SandboxApiKey, SandboxExpressCustomer, SandboxStudy, SandboxUser

JSON = dict[str, Any]


def timestamp(value: datetime | None) -> str | None:
    """`2025-01-30T12:51:12.936Z` (§12.21)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _optional(value: str) -> str | None:
    return value or None


def user_reference(user: SandboxUser | None) -> JSON | None:
    """UserReference (§4.2)."""
    if user is None:
        return None
    return {
        "userId": user.user_id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "middleName": _optional(user.middle_name),
        "suffix1": _optional(user.suffix1),
        "suffix2": _optional(user.suffix2),
    }


def api_key_reference(key: SandboxApiKey | None) -> JSON | None:
    """ApiKeyReference (§4.2)."""
    if key is None:
        return None
    return {
        "apiKeyId": str(key.api_key_id),
        "description": key.description,
        "isViewerEnabled": key.is_viewer_enabled,
        "isClinicalContextEnrichmentEnabled": False,
    }


def customer_reference(customer: SandboxExpressCustomer | None) -> JSON | None:
    """ExpressCustomerReference (§4.2)."""
    if customer is None:
        return None
    return {
        "expressCustomerId": customer.customer_id,
        "expressCustomerName": customer.name,
    }


def study(row: SandboxStudy) -> JSON:
    """Study (§4.3). Load with `select_related` of the four references."""
    return {
        "studyId": row.study_id,
        "studyInstanceUid": row.study_instance_uid,
        "studyDescription": row.study_description,
        "severity": row.severity,
        "studyViewerStatus": row.study_viewer_status,
        "isCancelled": row.is_cancelled,
        "cancelledAt": timestamp(row.cancelled_at),
        "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
        "assignedTo": user_reference(row.assigned_to),
        "createdByApiKey": api_key_reference(row.created_by_api_key),
        "createdByUser": user_reference(row.created_by_user),
        "expressCustomer": customer_reference(row.express_customer),
        "metadata": dict(row.metadata or {}),
    }


def user(row: SandboxUser) -> JSON:
    """User (§4.3). `level` may be `owner` here (retrieve and list)."""
    return {
        "userId": row.user_id,
        "email": row.email,
        "firstName": row.first_name,
        "lastName": row.last_name,
        "middleName": _optional(row.middle_name),
        "suffix1": _optional(row.suffix1),
        "suffix2": _optional(row.suffix2),
        "phoneNumber": _optional(row.phone_number),
        "level": row.level,
        "clinicRole": row.clinic_role,
        "canManageStudies": row.can_manage_studies,
        "hasDashboardAccess": row.has_dashboard_access,
        "invitedSource": row.invited_source,
        "createdAt": timestamp(row.created_at),
        "lastLoginAt": timestamp(row.last_login_at),
    }


def express_customer(row: SandboxExpressCustomer) -> JSON:
    """Express customer object (§10). `userCount` comes from the `user_count` annotation of
    `store.customers()`, or is counted."""
    user_count = getattr(row, "user_count", None)
    if user_count is None:
        user_count = row.members.count()
    return {
        "expressCustomerId": row.customer_id,
        "expressCustomerName": row.name,
        "isActive": row.is_active,
        "userCount": user_count,
        "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
        "createdByApiKeyId": str(row.created_by_api_key_id) if row.created_by_api_key_id else None,
        "createdByUserId": _optional(row.created_by_user_id),
        "metadata": dict(row.metadata or {}),
    }


def page(items_key: str, items: list[JSON], cursor: str | None) -> JSON:
    """A list envelope (§5): the items key, `cursor` (null on the last page) and `hasMore`."""
    return {items_key: items, "cursor": cursor, "hasMore": cursor is not None}
