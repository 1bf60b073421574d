"""The request a coordinator page receives, as the type checker should see it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthenticatedRequest(HttpRequest):
    """An annotation only: Django still passes its own request object. Every page requires
    sign-in (LoginRequiredMiddleware), so `user` is a real user, and HtmxMiddleware sets
    `htmx`."""

    user: User
    htmx: HtmxDetails
