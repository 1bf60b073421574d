from django.urls import path

from imports import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/export.csv", views.worklist_export, name="worklist_export"),
    path("imports/<int:import_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/send/", views.import_send, name="import_send"),
    path("imports/<int:import_id>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<int:import_id>/results.csv", views.import_results_csv, name="import_results"),
]
