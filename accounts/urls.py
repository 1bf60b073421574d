from django.urls import path

from accounts import oidc, views

urlpatterns = [
    path("session/", views.session_status, name="session_status"),
    path("drafts/save/", views.draft_save, name="draft_save"),
    path("drafts/discard/", views.draft_discard, name="draft_discard"),
    path("oidc/authenticate/", oidc.authenticate_view, name="oidc_authentication_init"),
    path("oidc/callback/", oidc.callback_view, name="oidc_authentication_callback"),
]
