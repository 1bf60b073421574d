"""Django admin: the sign-in audit, read only and filterable. Lock-outs are lifted under
"Axes" → "Access attempts" (delete the attempt)."""

from __future__ import annotations

from django.contrib import admin

from accounts.models import SignInEvent
from studies.admin import ReadOnlyAdmin


@admin.register(SignInEvent)
class SignInEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "user", "method", "ip_address"]
    list_filter = ["kind", "method", "at", "user"]
    date_hierarchy = "at"
    search_fields = ["username", "ip_address", "user_agent"]
    list_select_related = ["user"]
