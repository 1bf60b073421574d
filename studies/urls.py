from django.urls import path

from studies.views import create, detail, worklist

urlpatterns = [
    path("", worklist.home, name="home"),
    path("studies/new/", create.study_create, name="study_create"),
    path("studies/assignees/", create.assignee_search, name="assignee_search"),
    path("studies/by-uid/<str:study_instance_uid>/", detail.study_by_uid, name="study_by_uid"),
    path("studies/<str:study_id>/", detail.study_detail, name="study_detail"),
]
