"""The sign-in audit: every sign-in, sign-out, failed sign-in, lock-out and automatic log-off,
with who, when and from which address. Written from Django's and django-axes' signals."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import SignInEvent

IDLE_LOGOFF_FLAG = "_accounts_idle_logoff"


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from: REMOTE_ADDR, or the first X-Forwarded-For address
    when SIGN_IN_TRUST_X_FORWARDED_FOR says a proxy in front of the app sets it."""
    if settings.SIGN_IN_TRUST_X_FORWARDED_FOR:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")[0].strip()
        if forwarded:
            return forwarded
    return str(request.META.get("REMOTE_ADDR") or "") or None


def record(
    kind: SignInEvent.Kind,
    request: HttpRequest | None,
    *,
    user: Any = None,
    username: str = "",
    method: str = "",
) -> SignInEvent:
    if user is not None and not username:
        username = user.get_username()
    if user is None and username:
        user = get_user_model().objects.filter(username=username).first()
    return SignInEvent.objects.create(
        kind=kind,
        user=user,
        username=username[:150],
        method=method,
        ip_address=client_address(request) if request is not None else None,
        user_agent=(request.headers.get("User-Agent", "") if request is not None else "")[:255],
    )


def _method(user: AbstractBaseUser) -> str:
    backend = getattr(user, "backend", "") or ""
    return "sso" if backend.endswith("OIDCBackend") else "password"


@receiver(user_logged_in, dispatch_uid="accounts.audit.signed_in")
def _signed_in(sender: Any, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> None:
    record(SignInEvent.Kind.SIGN_IN, request, user=user, method=_method(user))


@receiver(user_logged_out, dispatch_uid="accounts.audit.signed_out")
def _signed_out(
    sender: Any, request: HttpRequest, user: AbstractBaseUser | None, **kwargs: Any
) -> None:
    if user is None:
        return
    idle = getattr(request, IDLE_LOGOFF_FLAG, False)
    record(SignInEvent.Kind.IDLE_LOGOFF if idle else SignInEvent.Kind.SIGN_OUT, request, user=user)


@receiver(user_login_failed, dispatch_uid="accounts.audit.failed")
def _failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")
    method = "password" if "username" in credentials else "sso"
    record(SignInEvent.Kind.FAILED, request, username=username, method=method)


@receiver(user_locked_out, dispatch_uid="accounts.audit.locked_out")
def _locked_out(
    sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any
) -> None:
    record(SignInEvent.Kind.LOCKED_OUT, request, username=username or "")
