"""The worklist's filters: the query string of `/`, parsed into the API's `StudyFilters`.

Every filter lives in the URL (shareable, back-button safe) and is applied by the API, never in
Python. A value that does not parse is dropped with a message next to its control, so a
mangled link still shows a worklist instead of an error page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final, cast

from django import forms
from django.http import QueryDict
from django.urls import reverse, reverse_lazy

from studies.forms import VERBATIM, is_customer_id, is_user_id
from studies.viewer_api import (
    NO_CUSTOMER,
    UNASSIGNED,
    ExpressCustomer,
    Severity,
    StudyFilters,
    ViewerStatus,
)

PAGE_SIZE: Final = 50
# The filter bar's ids (its assignee type-ahead's too): they differ from the quick-create
# form's, which shares some field names.
FILTER_AUTO_ID: Final = "filter_%s"
DESCRIPTION_MAX_LENGTH: Final = 200

# Query-string values of the "cancelled" filter. Active only is the default.
ACTIVE: Final = "active"
CANCELLED: Final = "cancelled"
ALL: Final = "all"

# The worklist's order ("view"): urgent first is the default, so it needs no parameter.
NEWEST: Final = "newest"
# The "created by" filter's one value: studies the signed-in coordinator created here.
ME: Final = "me"
# The query string of an explicitly empty filter set. A plain `/` brings the coordinator's
# remembered filters back (studies.preferences); this is the worklist with none.
NO_FILTERS: Final = "filters=none"

# The API's cursors are Base64 (§5); accept the URL-safe alphabet too, and nothing else.
_CURSOR = re.compile(r"^[A-Za-z0-9+/=_-]{1,512}$")
# The "cancelled" filter in words: its label, the value that turns it off, and how that reads.
_CANCELLED_SUMMARY: Final = {
    ACTIVE: ("Active studies only", ALL, "include cancelled"),
    CANCELLED: ("Cancelled studies only", None, "show active"),
}
_OFF = {"invalid_choice": "%(value)s is not one of the choices; this filter is off."}


def worklist_url(query: str = "") -> str:
    """The worklist's URL with a query string (from `WorklistFilterForm.query`); with no filter
    it says so (`?filters=none`), since a plain `/` brings the remembered filters back."""
    return reverse("home") + f"?{query or NO_FILTERS}"


@dataclass(frozen=True)
class ActiveFilter:
    """One filter that is on, in words, with the worklist's URL without it (`action` says
    what following that URL does)."""

    name: str
    label: str
    url: str
    action: str = "remove"


class WorklistFilterForm(forms.Form):
    """The filter bar. Bound to `request.GET`; every field is optional."""

    severity = forms.ChoiceField(
        label="Severity",
        required=False,
        error_messages=_OFF,
        choices=[("", "Any severity")] + [(s.value, s.label) for s in Severity],
    )
    status = forms.ChoiceField(
        label="Viewer status",
        required=False,
        error_messages=_OFF,
        choices=[("", "Any status")] + [(s.value, s.label) for s in ViewerStatus],
    )
    cancelled = forms.ChoiceField(
        label="Cancelled",
        required=False,
        error_messages=_OFF,
        # Active only is the default, so it needs no parameter ("active" is accepted too).
        choices=[("", "Active"), (CANCELLED, "Cancelled"), (ALL, "All")],
    )
    # The assignee filter uses the assignee type-ahead's names (studies.forms.AssigneePickerForm):
    # `assigned_to` is the chosen user or "unassigned"; the picker's `assignee_query` (the search
    # text) is not a filter and is left to the picker.
    assigned_to = forms.CharField(label="Assignee", required=False, max_length=64)
    customer = forms.ChoiceField(label="Express customer", required=False, error_messages=_OFF)
    q = forms.CharField(
        label="Description contains",
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        # Typing filters as you go (htmx, debounced); the form's own hx-* attributes say where.
        widget=forms.TextInput(
            attrs={
                "type": "search",
                **VERBATIM,
                "placeholder": "e.g. CT Head",
                "hx-get": reverse_lazy("home"),
                "hx-trigger": "input changed delay:300ms, search",
            }
        ),
    )

    created_by = forms.ChoiceField(
        label="Created by",
        required=False,
        error_messages=_OFF,
        choices=[("", "Anyone"), (ME, "Me, in Viewer Admin")],
    )
    # Not a filter but the view: which studies come first.
    order = forms.ChoiceField(
        label="Order",
        required=False,
        error_messages=_OFF,
        choices=[("", "Urgent first"), (NEWEST, "Newest first")],
    )

    # Everything in the query string that is a filter (the cursor is not: it is a position).
    FILTER_NAMES: Final = (
        "severity",
        "status",
        "cancelled",
        "assigned_to",
        "customer",
        "q",
        "created_by",
        "order",
    )
    # The filters behind "More filters" (the bar shows description, severity, status, assignee).
    MORE_FILTERS: Final = ("customer", "cancelled", "created_by")

    def __init__(
        self,
        data: QueryDict,
        *,
        customers: Sequence[ExpressCustomer] = (),
    ) -> None:
        if data.get("cancelled") == ACTIVE:
            data = data.copy()
            data["cancelled"] = ""
        super().__init__(data, auto_id=FILTER_AUTO_ID, label_suffix="")
        # The chosen assignee's name, for the summary, once the view knows it.
        self.assignee_label: str | None = None
        self._customer_names = {c.express_customer_id: c.express_customer_name for c in customers}
        choices = [("", "Any customer"), (NO_CUSTOMER, "No customer")]
        choices += [
            (
                c.express_customer_id,
                c.express_customer_name + ("" if c.is_active else " (inactive)"),
            )
            for c in sorted(customers, key=lambda c: c.express_customer_name.lower())
        ]
        chosen = data.get("customer", "")
        if is_customer_id(chosen) and chosen not in self._customer_names:
            # The customer list could not be loaded, or is older than the link: keep the filter.
            choices.append((chosen, chosen))
        cast(forms.ChoiceField, self.fields["customer"]).choices = choices

    def clean_assigned_to(self) -> str:
        value: str = self.cleaned_data["assigned_to"].strip()
        if value and value != UNASSIGNED and not is_user_id(value):
            raise forms.ValidationError("This is not a Viewer user; showing every assignee.")
        return value

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def value(self, name: str) -> str:
        """The cleaned value of one filter; "" when absent or invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return str(self.cleaned_data.get(name) or "")

    @property
    def more_filters_on(self) -> bool:
        """Whether a filter behind "More filters" is set (the section is then open)."""
        return any(self.value(name) for name in self.MORE_FILTERS)

    @property
    def urgent_first(self) -> bool:
        return self.value("order") != NEWEST

    @property
    def created_by_me(self) -> bool:
        return self.value("created_by") == ME

    def order_url(self, order: str) -> str:
        return worklist_url(self.query(order=order or None))

    @property
    def urgent_first_url(self) -> str:
        return self.order_url("")

    @property
    def newest_first_url(self) -> str:
        return self.order_url(NEWEST)

    def assigned_to_url(self, user_id: str) -> str:
        """The worklist with the "Assigned to me" chip (for `user_id`) toggled."""
        on = self.value("assigned_to") == user_id
        return worklist_url(self.query(assigned_to=None if on else user_id))

    @property
    def cancelled_value(self) -> str:
        return self.value("cancelled") or ACTIVE

    def to_filters(self, *, limit: int = PAGE_SIZE) -> StudyFilters:
        """The API query for these filters; invalid values are left out."""
        cancelled = self.cancelled_value
        return StudyFilters(
            severity=self.value("severity") or None,
            study_viewer_status=self.value("status") or None,
            is_cancelled=None if cancelled == ALL else cancelled == CANCELLED,
            assigned_to=self.value("assigned_to") or None,
            express_customer_id=self.value("customer") or None,
            study_description=self.value("q") or None,
            limit=limit,
        )

    def query(self, **changes: str | None) -> str:
        """The query string of these filters (no cursor), with `changes` applied; None removes."""
        params = QueryDict(mutable=True)
        for name in self.FILTER_NAMES:
            value = self.value(name)
            if value:
                params[name] = value
        for name, change in changes.items():
            if change:
                params[name] = change
            else:
                params.pop(name, None)
        return params.urlencode()

    # The quick filters ("chips") and the page links.

    @property
    def stat_on(self) -> bool:
        return self.value("severity") == Severity.STAT.value

    @property
    def stat_url(self) -> str:
        """The worklist with the STAT chip toggled."""
        return worklist_url(self.query(severity=None if self.stat_on else Severity.STAT.value))

    @property
    def unassigned_on(self) -> bool:
        return self.value("assigned_to") == UNASSIGNED

    @property
    def unassigned_url(self) -> str:
        """The worklist with the Unassigned chip toggled."""
        return worklist_url(self.query(assigned_to=None if self.unassigned_on else UNASSIGNED))

    @property
    def first_page_url(self) -> str:
        return worklist_url(self.query())

    def page_url(self, cursor: str) -> str:
        """The page at `cursor`, with these filters."""
        return worklist_url(self.query(cursor=cursor))

    @cached_property
    def active_filters(self) -> list[ActiveFilter]:
        """The filters that are on, in words, for the summary and the empty state (read after
        `assignee_label` is set)."""
        active: list[ActiveFilter] = []

        def off(**changes: str | None) -> str:
            return worklist_url(self.query(**changes))

        severity = self.value("severity")
        if severity:
            active.append(
                ActiveFilter("severity", f"Severity {Severity(severity).label}", off(severity=None))
            )
        status = self.value("status")
        if status:
            active.append(
                ActiveFilter(
                    "status", f"Viewer status {ViewerStatus(status).label}", off(status=None)
                )
            )
        if self.cancelled_value in _CANCELLED_SUMMARY:
            label, other, action = _CANCELLED_SUMMARY[self.cancelled_value]
            active.append(ActiveFilter("cancelled", label, off(cancelled=other), action=action))
        assignee = self.value("assigned_to")
        if assignee == UNASSIGNED:
            active.append(ActiveFilter("assigned_to", "Unassigned", off(assigned_to=None)))
        elif assignee:
            name = self.assignee_label or assignee
            active.append(ActiveFilter("assigned_to", f"Assigned to {name}", off(assigned_to=None)))
        customer = self.value("customer")
        if customer == NO_CUSTOMER:
            active.append(ActiveFilter("customer", "No Express customer", off(customer=None)))
        elif customer:
            name = self._customer_names.get(customer, customer)
            active.append(ActiveFilter("customer", f"Customer {name}", off(customer=None)))
        q = self.value("q")
        if q:
            active.append(ActiveFilter("q", f"Description contains \u201c{q}\u201d", off(q=None)))
        if self.created_by_me:
            active.append(ActiveFilter("created_by", "Created by me", off(created_by=None)))
        return active


def parse_cursor(data: QueryDict) -> str | None:
    """The page position from the query string, or None for the first page."""
    cursor = data.get("cursor", "").strip()
    return cursor if _CURSOR.fullmatch(cursor) else None
