"""Permission checks cost one query a request (studies.roles.OneQueryPermissionsBackend) and
answer as Django's own backend does."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studies.roles import COORDINATORS, MANAGE_STUDIES, OBSERVERS, can_manage_studies
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request loads it (no permission sets kept yet)."""
    return User.objects.get(pk=user.pk)


def test_a_coordinators_checks_cost_one_query() -> None:
    user = make_user("coord", COORDINATORS)
    loaded = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        assert can_manage_studies(loaded)
        assert loaded.has_perm(MANAGE_STUDIES)
        assert not loaded.has_perm("auth.delete_user")
    assert len(captured.captured_queries) == 1


def test_an_observer_is_refused_with_one_query() -> None:
    user = make_user("obs", OBSERVERS)
    loaded = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        assert not can_manage_studies(loaded)
        assert not loaded.has_perm(MANAGE_STUDIES)
    assert len(captured.captured_queries) == 1


@pytest.mark.parametrize("group", [COORDINATORS, OBSERVERS])
def test_the_permission_sets_are_djangos(group: str) -> None:
    user = make_user("someone", group)
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    ours, django = fresh(user), fresh(user)
    assert ours.get_user_permissions() == ModelBackend().get_user_permissions(django)
    assert ours.get_group_permissions() == ModelBackend().get_group_permissions(fresh(user))
    assert ours.get_all_permissions() == ModelBackend().get_all_permissions(fresh(user))
    assert "auth.view_user" in ours.get_user_permissions()


def test_inactive_and_superusers_are_as_before() -> None:
    inactive = make_user("gone", COORDINATORS)
    inactive.is_active = False
    inactive.save()
    assert not can_manage_studies(fresh(inactive))
    boss = User.objects.create_superuser("boss", password="x" * 12)
    assert can_manage_studies(fresh(boss))
