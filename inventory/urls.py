"""Inventory pages."""

from django.urls import include, path

from inventory import views, views_external, views_lineage

app_name = "inventory"

urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_create, name="model-create"),
    path("models/<str:key>/", views.model_detail, name="model-detail"),
    path("models/<str:key>/edit/", views.model_edit, name="model-edit"),
    path("models/<str:key>/versions/new/", views.version_create, name="version-create"),
    path("models/<str:key>/lineage/", views_lineage.lineage, name="lineage"),
    path("runs-where/", views_lineage.runs_where, name="runs-where"),
    path("units/", views.unit_list, name="unit-list"),
    path("external-models/", include(views_external)),
]
