"""What comes in: the API's objects (§4, §10) and list pages (§5), read leniently (§13)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from studies.viewer_api.rules import Severity, ViewerStatus


class _Response(BaseModel):
    """Unknown extra keys are ignored; missing required keys fail (§13)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def _full_name(
    first: str | None, middle: str | None, last: str | None, *suffixes: str | None
) -> str:
    name = " ".join(part for part in (first, middle, last) if part)
    extra = ", ".join(suffix for suffix in suffixes if suffix)
    return f"{name}, {extra}" if name and extra else name


class UserRef(_Response):
    user_id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix1: str | None = None
    suffix2: str | None = None

    @property
    def display_name(self) -> str:
        """Name with suffixes, e.g. "John R. Smith, MD"; the email when there is no name."""
        name = _full_name(
            self.first_name, self.middle_name, self.last_name, self.suffix1, self.suffix2
        )
        return name or self.email


class ApiKeyRef(_Response):
    api_key_id: str
    description: str
    is_viewer_enabled: bool | None = None
    is_clinical_context_enrichment_enabled: bool | None = None


class CustomerRef(_Response):
    express_customer_id: str
    express_customer_name: str


class Study(_Response):
    """A Viewer study (§4.3). Enum fields accept values we do not know yet (§13)."""

    study_id: str
    study_instance_uid: str
    study_description: str
    severity: Severity | str = Field(union_mode="left_to_right")
    study_viewer_status: ViewerStatus | str = Field(union_mode="left_to_right")
    is_cancelled: bool
    cancelled_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    assigned_to: UserRef | None = None
    created_by_api_key: ApiKeyRef | None = None
    created_by_user: UserRef | None = None
    express_customer: CustomerRef | None = None
    metadata: dict[str, str] | None = None


class User(_Response):
    """A Viewer user (§4.3)."""

    user_id: str
    email: str
    first_name: str
    last_name: str
    level: str
    clinic_role: str
    can_manage_studies: bool
    has_dashboard_access: bool
    invited_source: str
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    middle_name: str | None = None
    phone_number: str | None = None
    suffix1: str | None = None
    suffix2: str | None = None

    @property
    def display_name(self) -> str:
        return _full_name(
            self.first_name, self.middle_name, self.last_name, self.suffix1, self.suffix2
        )


class ExpressCustomer(_Response):
    """An Express customer (§10)."""

    express_customer_id: str
    express_customer_name: str
    is_active: bool
    user_count: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by_api_key_id: str | None = None
    created_by_user_id: str | None = None
    metadata: dict[str, str] | None = None


class ActionResult(_Response):
    success: bool
    message: str | None = None


class UrlResult(_Response):
    url: str


Item = TypeVar("Item", bound=_Response)


class Page(BaseModel, Generic[Item]):
    """One page of a list (§5)."""

    items: list[Item]
    cursor: str | None = None
    has_more: bool | None = None

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page, or None on the last page (the SDK's rules, §5)."""
        if self.has_more is False or not self.items or not self.cursor:
            return None
        return self.cursor
