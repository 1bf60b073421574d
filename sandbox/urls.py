"""Sandbox URLs, mounted under `/sandbox/` when `SANDBOX_ENABLED` (§14 "Serving").

Literal segments (`cancel`, `uncancel`, `reroute-url`, `by-uid`, and the user paths the sandbox
does not serve) come before the `{id}` patterns. Control paths live under `/_sandbox/`, outside
`/v1`. Anything else under the prefix is a JSON 404.
"""

from django.urls import path, re_path

from sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("v1/viewer/studies", views.studies_view, name="studies"),
    path("v1/viewer/studies/cancel", views.cancel_view, name="study-cancel"),
    path("v1/viewer/studies/uncancel", views.uncancel_view, name="study-uncancel"),
    path("v1/viewer/studies/reroute-url", views.reroute_url_view, name="study-reroute-url"),
    path(
        "v1/viewer/studies/by-uid/<str:study_instance_uid>",
        views.study_by_uid_view,
        name="study-by-uid",
    ),
    path("v1/viewer/studies/<str:study_id>", views.study_view, name="study"),
    path("v1/viewer/users", views.users_view, name="users"),
    re_path(
        r"^v1/viewer/users/(?:invitations|reactivate|revoke-access)(?:/.*)?$",
        views.not_served,
        name="users-not-served",
    ),
    path("v1/viewer/users/<str:user_id>", views.user_view, name="user"),
    path("v1/express", views.customers_view, name="customers"),
    path("v1/express/<str:express_customer_id>", views.customer_view, name="customer"),
    path("_sandbox/faults", views.faults, name="faults"),
    path("_sandbox/viewer", views.viewer_page, name="viewer"),
    re_path(r"^.*$", views.not_served, name="not-served"),
]
