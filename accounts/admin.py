"""Django admin: the sign-in audit, read only and filterable. Lock-outs are lifted under
"Axes" → "Access attempts" (delete the attempt)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import SignInEvent


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "username", "user", "method", "ip_address"]
    list_filter = ["kind", "method", "at", "user"]
    date_hierarchy = "at"
    search_fields = ["username", "ip_address", "user_agent"]
    list_select_related = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
