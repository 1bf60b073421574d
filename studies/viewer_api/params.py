"""What goes out: request bodies and list filters, in our snake_case, sent in the API's camelCase.

Every list call takes one filters model (`filters=`) and a `cursor`; each model turns itself
into query parameters by the rules of §2.2.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from studies.viewer_api.rules import (
    NO_CUSTOMER,
    UNASSIGNED,
    CustomerId,
    Description,
    DicomUid,
    Limit,
    Metadata,
    Severity,
    UserId,
    ViewerStatus,
)


class _Request(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body: camelCase keys, and only the fields the caller set (§2.1)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class StudyCreate(_Request):
    """Body of `POST /v1/viewer/studies` (§6.1)."""

    severity: Severity
    study_description: Description
    study_instance_uid: DicomUid
    assigned_to: UserId | None = None
    express_customer_id: CustomerId | None = None
    metadata: Metadata | None = None

    def wire(self) -> dict[str, Any]:
        # On create, "not given" and "none" mean the same: leave the key out.
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


_UPDATE_NULLABLE: Final = frozenset({"assigned_to", "metadata"})


class StudyUpdate(_Request):
    """Body of `PATCH /v1/viewer/studies/{studyId}` (§6.3).

    Only fields that were set are sent; `assigned_to=None` sends `null` (unassign) and
    `metadata=None` sends `null` (clear).
    """

    severity: Severity | None = None
    study_description: Description | None = None
    study_viewer_status: ViewerStatus | None = None
    assigned_to: UserId | None = None
    metadata: Metadata | None = None

    def wire(self) -> dict[str, Any]:
        # Only `assignedTo` and `metadata` may be null on the wire (§6.3); None for the others
        # means "leave unchanged", never a null the API would reject.
        fields = {
            name
            for name in self.model_fields_set
            if name in _UPDATE_NULLABLE or getattr(self, name) is not None
        }
        return self.model_dump(mode="json", by_alias=True, include=fields)


class Filters(_Request):
    """A list query; `query()` is what goes on the wire."""

    def query(self) -> dict[str, str]:
        """Query parameters per §2.2: camelCase, lowercase booleans, None and "" dropped."""
        params: dict[str, str] = {}
        for key, value in self.model_dump(mode="json", by_alias=True).items():
            if value is None or value == "":
                continue
            params[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return params


class StudyFilters(Filters):
    """Query of `GET /v1/viewer/studies` (§6.4). Use UNASSIGNED / NO_CUSTOMER for null filters."""

    assigned_to: UserId | Literal["unassigned"] | None = None
    express_customer_id: CustomerId | Literal["none"] | None = None
    is_cancelled: bool | None = None
    severity: Severity | None = None
    study_viewer_status: ViewerStatus | None = None
    study_description: str | None = None
    limit: Limit | None = None

    def query(self) -> dict[str, str]:
        params = super().query()
        if params.get("assignedTo") == UNASSIGNED:
            params["assignedTo"] = "null"  # our convention for the null filter, §2.3
        if params.get("expressCustomerId") == NO_CUSTOMER:
            params["expressCustomerId"] = "null"
        return params


class UserFilters(Filters):
    """Query of `GET /v1/viewer/users` (§7.3)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    invited_source: Literal["dashboard", "api"] | None = None
    level: Literal["owner", "admin", "member"] | None = None
    limit: Limit | None = None


class CustomerFilters(Filters):
    """Query of `GET /v1/express` (§10.1): only `limit`; the API has no other filter."""

    limit: Limit | None = None
