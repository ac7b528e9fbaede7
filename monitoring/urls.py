"""Monitoring pages."""

from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("models/<str:key>/", views.model_monitoring, name="model"),
    path("models/<str:key>/mlflow-import/", views.mlflow_import, name="mlflow-import"),
]
