"""Inventory pages."""

from django.urls import include, path

from inventory import views, views_dossier, views_external, views_lineage

app_name = "inventory"

urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_create, name="model-create"),
    path("models/columns/", views.columns_update, name="model-columns"),
    path("saved-views/", views.saved_view_list, name="saved-views"),
    path("saved-views/new/", views.saved_view_create, name="saved-view-create"),
    path("saved-views/<int:pk>/rename/", views.saved_view_rename, name="saved-view-rename"),
    path("saved-views/<int:pk>/delete/", views.saved_view_delete, name="saved-view-delete"),
    path("models/<str:key>/", views.model_detail, name="model-detail"),
    path("models/<str:key>/edit/", views.model_edit, name="model-edit"),
    path("models/<str:key>/versions/new/", views.version_create, name="version-create"),
    path("models/<str:key>/lineage/", views_lineage.lineage, name="lineage"),
    path("models/<str:key>/history/", views_dossier.model_history, name="model-history"),
    path("runs-where/", views_lineage.runs_where, name="runs-where"),
    path("units/", views.unit_list, name="unit-list"),
    path("external-models/", include(views_external)),
]
