from django.urls import path

from studies import views

urlpatterns = [
    path("", views.home, name="home"),
]
