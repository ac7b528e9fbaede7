"""REST API v1: one router for every app's viewsets."""

from rest_framework.routers import DefaultRouter

from audits.api.routes import register as register_audits
from core.api.views import UserViewSet
from core.url_index import index_by_first_segment
from gate.api.routes import register as register_gate
from governance.api.routes import register as register_governance
from inventory.api.routes import register as register_inventory
from monitoring.api.routes import register as register_monitoring
from reports.api.routes import register as register_reports

router = DefaultRouter()
register_inventory(router)
router.register("users", UserViewSet, basename="user")
register_governance(router)
register_audits(router)
register_monitoring(router)
register_gate(router)
register_reports(router)

# Grouped by first segment: a request is matched against its own route's patterns, not all 200 of them.
urlpatterns = index_by_first_segment(router.urls)
