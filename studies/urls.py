from django.urls import path, register_converter

from studies.views import create, detail, manage, unsent, worklist
from viewer_admin.converters import RowIdConverter

register_converter(RowIdConverter, "row_id")

urlpatterns = [
    path("", worklist.home, name="home"),
    path("studies/new/", create.study_create, name="study_create"),
    path("studies/assignees/", create.assignee_search, name="assignee_search"),
    path("studies/lookup/", detail.study_lookup, name="study_lookup"),
    path("studies/unsent/", unsent.unsent_list, name="unsent_list"),
    path("studies/unsent/<row_id:submission_id>/retry/", unsent.unsent_retry, name="unsent_retry"),
    path(
        "studies/unsent/<row_id:submission_id>/discard/",
        unsent.unsent_discard,
        name="unsent_discard",
    ),
    path("studies/by-uid/<str:study_instance_uid>/", detail.study_by_uid, name="study_by_uid"),
    path("studies/<str:study_id>/", detail.study_detail, name="study_detail"),
    path("studies/<str:study_id>/edit/", manage.study_edit, name="study_edit"),
    path("studies/<str:study_id>/status/", manage.study_set_status, name="study_set_status"),
    path("studies/<str:study_id>/cancel/", manage.study_cancel, name="study_cancel"),
    path("studies/<str:study_id>/uncancel/", manage.study_uncancel, name="study_uncancel"),
    path("studies/<str:study_id>/open/", manage.study_open, name="study_open"),
]
