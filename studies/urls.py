from django.urls import include, path, register_converter

from studies.views import assignees, create, detail, manage, pacs, unsent, worklist
from viewer_admin.converters import RowIdConverter

register_converter(RowIdConverter, "row_id")

# One study, by its Viewer API id: /studies/<study_id>/...
study_urls = [
    path("", detail.study_detail, name="study_detail"),
    path("edit/", manage.study_edit, name="study_edit"),
    path("status/", manage.study_set_status, name="study_set_status"),
    path("cancel/", manage.study_cancel, name="study_cancel"),
    path("uncancel/", manage.study_uncancel, name="study_uncancel"),
    path("open/", manage.study_open, name="study_open"),
]

# The coordinator's unsent attempts: /studies/unsent/...
unsent_urls = [
    path("", unsent.unsent_list, name="unsent_list"),
    path("<row_id:submission_id>/retry/", unsent.unsent_retry, name="unsent_retry"),
    path("<row_id:submission_id>/discard/", unsent.unsent_discard, name="unsent_discard"),
]

urlpatterns = [
    path("", worklist.home, name="home"),
    path("worklist/changes/", worklist.worklist_changes, name="worklist_changes"),
    path("worklist/panel/", worklist.worklist_panel, name="worklist_panel"),
    path("studies/new/", create.study_create, name="study_create"),
    path("studies/assignees/", assignees.assignee_search, name="assignee_search"),
    path("studies/lookup/", detail.study_lookup, name="study_lookup"),
    path("studies/unsent/", include(unsent_urls)),
    # PACS (issue 12): before studies/<study_id>/, which would take "pacs" as an id.
    path("studies/pacs/", pacs.pacs_find, name="pacs_find"),
    path("studies/pacs/use/", pacs.pacs_use, name="pacs_use"),
    path("studies/pacs/file/", pacs.dicom_file_read, name="dicom_file_read"),
    path("studies/pacs/in-pacs/", pacs.pacs_status, name="pacs_status"),
    path("studies/by-uid/<str:study_instance_uid>/", detail.study_by_uid, name="study_by_uid"),
    path("studies/<str:study_id>/", include(study_urls)),
]
