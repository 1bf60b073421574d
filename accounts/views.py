"""Sign-in page, the lock-out answer, and the small endpoints behind the session warning
and drafts (static/js/session.js)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import drafts, idle

LOGIN_TEMPLATE = "registration/login.html"
LOCKED_OUT_MESSAGE = (
    "Too many failed sign-in attempts. Signing in is paused for {minutes:g} minutes; "
    "try again later or ask an administrator to lift the pause."
)
PASSWORDS_OFF_MESSAGE = "Signing in with a password is switched off here: use single sign-on."
SSO_FAILED_MESSAGE = (
    "Single sign-on did not sign you in. If this keeps happening, ask an administrator "
    "whether your account has a Viewer Admin role."
)


def sign_in_context() -> dict[str, Any]:
    return {
        "local_passwords": settings.LOCAL_PASSWORDS_ENABLED,
        "oidc_enabled": settings.OIDC_ENABLED,
        "oidc_provider_name": settings.OIDC_PROVIDER_NAME,
    }


@method_decorator(never_cache, name="dispatch")
class SignInView(LoginView):
    """Django's sign-in, plus single sign-on and the switch for local passwords.

    Wrong credentials get Django's one message whether or not the account exists; lock-outs
    (django-axes) answer with `locked_out` below, again the same for every username.
    """

    template_name = LOGIN_TEMPLATE
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(sign_in_context())
        if self.request.GET.get("sso") == "failed":
            context["sign_in_error"] = SSO_FAILED_MESSAGE
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LOCAL_PASSWORDS_ENABLED:
            context = self.get_context_data(form=self.get_form_class()(request))
            context["sign_in_error"] = PASSWORDS_OFF_MESSAGE
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out attempt: the sign-in page with one message that
    says nothing about whether the account exists (AXES_LOCKOUT_CALLABLE)."""
    username = ""
    if isinstance(credentials, dict):
        username = str(credentials.get("username") or "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "next": request.POST.get("next", request.GET.get("next", "")),
        "sign_in_error": LOCKED_OUT_MESSAGE.format(minutes=settings.SIGN_IN_LOCKOUT_MINUTES),
        **sign_in_context(),
    }
    response = render(request, LOGIN_TEMPLATE, context, status=429)
    response.headers["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@never_cache
def session_status(request: HttpRequest) -> JsonResponse:
    """GET (background, never extends): is this session signed in, and for how long still.
    POST ("Stay signed in", real input): extends it. A session that has run out gets the
    sign-in redirect, like every page."""
    if request.method == "POST":
        idle.mark_activity(request)
    return JsonResponse({"signedIn": True, "secondsLeft": round(idle.seconds_left(request))})


@require_POST
@never_cache
def draft_save(request: HttpRequest) -> HttpResponse:
    """Keep the page's half-filled form as a draft (sent in the background before the
    automatic log-off). `_draft_path` names the page; other fields are the form's."""
    if drafts.capture(request) is None:
        return HttpResponseBadRequest("This page keeps no drafts.")
    return JsonResponse({"saved": True})


@require_POST
@never_cache
def draft_discard(request: HttpRequest) -> HttpResponse:
    """Drop the draft of a page (after "Restore" filled the form, or "Discard")."""
    if isinstance(request.user, User):
        drafts.discard(request.user, request.POST.get(drafts.PATH_FIELD, ""))
    return JsonResponse({"discarded": True})
