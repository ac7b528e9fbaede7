"""Report pages."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.downloads, name="downloads"),
    path("exports/", views.export_start, name="export-start"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("register.csv", views.register_csv, name="register-csv"),
]
