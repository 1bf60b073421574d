"""The two roles of Viewer Admin, as Django groups.

Coordinators create and change studies; Observers only read. The groups hold (or lack) one
permission, so checks are ordinary `has_perm` calls and a superuser passes them too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
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
        found: dict[str, set[str]] = {"user": set(), "group": set()}
        alias = router.db_for_read(Permission)
        with connections[alias].cursor() as cursor:
            cursor.execute(_permissions_sql(alias), [user_obj.pk, user_obj.pk])
            for app_label, codename, source in cursor.fetchall():
                found[source].add(f"{app_label}.{codename}")
        user_obj._user_perm_cache = found["user"]
        user_obj._group_perm_cache = found["group"]
        return found[from_name]


@cache
def _permissions_sql(alias: str) -> str:
    """The one query of `OneQueryPermissionsBackend` on database `alias`: the user's own
    permissions, then those of the user's groups, as (app label, codename, "user" or "group")
    rows; its two parameters are the user's id. Made once from the models' tables and columns,
    so that a request does not build the ORM query (the costliest step of a small page)."""
    quote = connections[alias].ops.quote_name

    def col(model: Any, field: str) -> str:
        return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(field).column)}"

    def table(model: Any) -> str:
        return quote(model._meta.db_table)

    own, groups, shared = (
        User.user_permissions.through,
        User.groups.through,
        Group.permissions.through,
    )
    # Only table and column names (quoted) go into the text; the user's id is a parameter.
    head = (
        f"SELECT {col(ContentType, 'app_label')}, {col(Permission, 'codename')}, "  # noqa: S608
        "'{source}' "
        f"FROM {table(Permission)} INNER JOIN {table(ContentType)} "
        f"ON {col(Permission, 'content_type')} = {col(ContentType, 'id')} "
    )
    mine = (
        head.format(source="user")
        + f"INNER JOIN {table(own)} ON {col(own, 'permission')} = {col(Permission, 'id')} "
        + f"WHERE {col(own, 'user')} = %s"
    )
    theirs = (
        head.format(source="group")
        + f"INNER JOIN {table(shared)} ON {col(shared, 'permission')} = {col(Permission, 'id')} "
        + f"INNER JOIN {table(groups)} ON {col(groups, 'group')} = {col(shared, 'group')} "
        + f"WHERE {col(groups, 'user')} = %s"
    )
    return f"{mine} UNION ALL {theirs}"
