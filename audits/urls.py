"""Audits pages."""

from django.urls import path

from audits import views

app_name = "audits"

urlpatterns = [
    path("models/<str:key>/", views.model_audits, name="model"),
    path("datasets/<int:pk>/audit/", views.dataset_audit, name="dataset-audit"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("compare/", views.compare, name="compare"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule-edit"),
    path("schedules/<int:pk>/<slug:step>/", views.schedule_step, name="schedule-step"),
]
