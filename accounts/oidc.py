"""Single sign-on over OpenID Connect (mozilla-django-oidc), with the provider's role claim
mapped to the Coordinators / Observers groups.

Configured by the OIDC_* settings (see `.env.example`); on only when OIDC_RP_CLIENT_ID is set.
People are matched by OIDC_USERNAME_CLAIM (default `preferred_username`) and created on their
first sign-in; at every sign-in their role follows the OIDC_ROLES_CLAIM claim. A person whose
claim names no Viewer Admin role is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from studies.roles import COORDINATORS, OBSERVERS, ensure_roles

ROLE_GROUPS = (COORDINATORS, OBSERVERS)


def role_for(claims: dict[str, Any]) -> str | None:
    """The group the role claim maps to (Coordinators wins when both match), or None."""
    raw = claims.get(settings.OIDC_ROLES_CLAIM)
    values = {raw} if isinstance(raw, str) else set(raw or [])
    if values & set(settings.OIDC_COORDINATOR_VALUES):
        return COORDINATORS
    if values & set(settings.OIDC_OBSERVER_VALUES):
        return OBSERVERS
    return None


class RoleMappingOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, reading its settings only when single sign-on is used
    (Django instantiates every backend for every sign-in, password ones included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not settings.OIDC_ENABLED or request is None or "code" not in request.GET:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def _username(self, claims: dict[str, Any]) -> str:
        return str(claims.get(settings.OIDC_USERNAME_CLAIM) or "")[:150]

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(self._username(claims)) and role_for(claims) is not None

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Any]:
        return self.UserModel.objects.filter(username=self._username(claims))

    def create_user(self, claims: dict[str, Any]) -> Any:
        user = self.UserModel.objects.create_user(
            self._username(claims), email=claims.get("email", "")
        )
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        user.email = claims.get("email", user.email) or ""
        user.first_name = str(claims.get("given_name", user.first_name) or "")[:150]
        user.last_name = str(claims.get("family_name", user.last_name) or "")[:150]
        user.save()
        role = role_for(claims)
        user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS))
        if role is not None:
            if not Group.objects.filter(name=role).exists():
                ensure_roles(Group, Permission, ContentType)  # the groups were deleted
            user.groups.add(Group.objects.get(name=role))
        return user


def _when_enabled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_not_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        return view(request, *args, **kwargs)

    return wrapped


authenticate_view = _when_enabled(OIDCAuthenticationRequestView.as_view())
callback_view = _when_enabled(OIDCAuthenticationCallbackView.as_view())
