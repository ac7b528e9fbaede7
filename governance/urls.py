"""Governance pages."""

from django.urls import path

from governance import views, views_dossier

app_name = "governance"

urlpatterns = [
    path("models/<str:key>/", views.model_governance, name="model"),
    path("models/<str:key>/assess/", views.assessment_create, name="assess"),
    path("models/<str:key>/findings/", views_dossier.model_findings, name="model-findings"),
    path("models/<str:key>/ledger/", views_dossier.model_ledger, name="model-ledger"),
    path("assessments/<int:pk>/review/", views.assessment_review, name="assessment-review"),
    path("assessments/<int:pk>/override/", views.override_request, name="override-request"),
    path("overrides/<int:pk>/decide/", views.override_decide, name="override-decide"),
    path("versions/<int:pk>/<slug:step>/", views.version_step, name="version-step"),
    path("queue/", views.queue, name="queue"),
    path("findings/", views.finding_list, name="finding-list"),
    path("findings/<int:pk>/", views.finding_detail, name="finding-detail"),
    path("findings/<int:pk>/<slug:step>/", views.finding_step, name="finding-step"),
    path("ledger/", views.ledger, name="ledger"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/pack/", views.pack_activate, name="pack-activate"),
    path("policies/tiers/<int:pk>/edit/", views.tier_policy_edit, name="tier-policy-edit"),
    path("questionnaires/<int:version>/", views.questionnaire_detail, name="questionnaire"),
    path("questionnaires/<int:version>/publish/", views.questionnaire_publish, name="questionnaire-publish"),
    path("notifications/", views.notification_list, name="notifications"),
    path("bulk/", views.bulk_action, name="bulk-action"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
]
