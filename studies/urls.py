from django.urls import path

from studies.views import create, detail, manage, pacs, unsent, worklist

urlpatterns = [
    path("", worklist.home, name="home"),
    path("studies/new/", create.study_create, name="study_create"),
    path("studies/assignees/", create.assignee_search, name="assignee_search"),
    path("studies/lookup/", detail.study_lookup, name="study_lookup"),
    path("studies/unsent/", unsent.unsent_list, name="unsent_list"),
    path("studies/unsent/<int:submission_id>/retry/", unsent.unsent_retry, name="unsent_retry"),
    path(
        "studies/unsent/<int:submission_id>/discard/",
        unsent.unsent_discard,
        name="unsent_discard",
    ),
    # PACS (issue 12): before studies/<study_id>/, which would take "pacs" as an id.
    path("studies/pacs/", pacs.pacs_find, name="pacs_find"),
    path("studies/pacs/use/", pacs.pacs_use, name="pacs_use"),
    path("studies/pacs/file/", pacs.dicom_file_read, name="dicom_file_read"),
    path("studies/pacs/in-pacs/", pacs.pacs_status, name="pacs_status"),
    path("studies/by-uid/<str:study_instance_uid>/", detail.study_by_uid, name="study_by_uid"),
    path("studies/<str:study_id>/", detail.study_detail, name="study_detail"),
    path("studies/<str:study_id>/edit/", manage.study_edit, name="study_edit"),
    path("studies/<str:study_id>/status/", manage.study_set_status, name="study_set_status"),
    path("studies/<str:study_id>/cancel/", manage.study_cancel, name="study_cancel"),
    path("studies/<str:study_id>/uncancel/", manage.study_uncancel, name="study_uncancel"),
    path("studies/<str:study_id>/open/", manage.study_open, name="study_open"),
]
