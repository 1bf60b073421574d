"""The two roles of Viewer Admin, as Django groups.

Coordinators create and change studies; Observers only read. The groups hold (or lack) one
permission, so checks are ordinary `has_perm` calls and a superuser passes them too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AnonymousUser, User

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
