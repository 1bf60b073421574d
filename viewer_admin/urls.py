"""Top-level URLs: sign-in, health, admin and the coordinator app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from viewer_admin import health

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("studies.urls")),
]
