"""The two roles of Viewer Admin, as Django groups.

Coordinators create and change studies; Observers only read. The groups hold (or lack) one
permission, so checks are ordinary `has_perm` calls and a superuser passes them too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db.models import Value
from django.http import HttpRequest

COORDINATORS = "Coordinators"
OBSERVERS = "Observers"
MANAGE_STUDIES = "studies.manage_studies"
ROLE_PERMISSIONS = {COORDINATORS: ["manage_studies"], OBSERVERS: []}

coordinator_required = permission_required(MANAGE_STUDIES, raise_exception=True)


def can_manage_studies(user: User | AnonymousUser) -> bool:
    return user.has_perm(MANAGE_STUDIES)


def ensure_roles(group_model: Any, permission_model: Any, content_type_model: Any) -> None:
    """Create the groups and their permission if missing (idempotent).

    Takes the model classes so that the data migration can pass its historical models.
    """
    # Permissions are normally created after all migrations have run; create ours now so the
    # groups can hold it. The post-migrate pass later finds it and leaves it alone.
    content_type, _ = content_type_model.objects.get_or_create(
        app_label="studies", model="submission"
    )
    manage, _ = permission_model.objects.get_or_create(
        content_type=content_type,
        codename="manage_studies",
        defaults={"name": "Can create and change Viewer studies"},
    )
    permissions = {"manage_studies": manage}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set([permissions[codename] for codename in codenames])


class OneQueryPermissionsBackend(ModelBackend):
    """Reads a user's own and group permissions in one query instead of Django's two, once per
    request (the sets are kept on the request's user object, as Django keeps them).

    Listed in AUTHENTICATION_BACKENDS before the backends that sign people in; it signs no one
    in itself. The backends after it find both permission sets already there, so a page's
    permission checks cost one query whatever backend signed the user in."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        return None

    def _get_permissions(self, user_obj: Any, obj: Any, from_name: str) -> set[str]:
        if (
            not user_obj.is_active
            or user_obj.is_anonymous
            or obj is not None
            or user_obj.is_superuser
            or hasattr(user_obj, f"_{from_name}_perm_cache")
        ):
            # django-stubs leaves ModelBackend's private _get_permissions undeclared.
            known: set[str] = super()._get_permissions(user_obj, obj, from_name)  # type: ignore[misc]
            return known
        fields = ("content_type__app_label", "codename", "source")
        own = user_obj.user_permissions.annotate(source=Value("user")).values_list(*fields)
        shared = (
            Permission.objects.filter(group__user=user_obj)
            .annotate(source=Value("group"))
            .values_list(*fields)
        )
        found: dict[str, set[str]] = {"user": set(), "group": set()}
        for app_label, codename, source in own.order_by().union(shared.order_by(), all=True):
            found[source].add(f"{app_label}.{codename}")
        user_obj._user_perm_cache = found["user"]
        user_obj._group_perm_cache = found["group"]
        return found[from_name]
