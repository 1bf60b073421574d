"""Top-level URLs: sign-in, health, admin, the coordinator app and (when enabled) the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import SignInView
from viewer_admin import health

urlpatterns = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("imports.urls")),  # study imports and the worklist export
    path("", include("studies.urls")),
]

if settings.SANDBOX_ENABLED:
    # The Viewer API sandbox: an API with bearer keys, no sign-in (see sandbox/urls.py).
    urlpatterns = [path("sandbox/", include("sandbox.urls")), *urlpatterns]
