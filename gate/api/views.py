"""Gate API v1: ask the gate (``POST /gate/check/``), read its decisions, fetch the public keys (JWKS).

Asking goes through ``gate.services.gate_check`` (a model the caller may not see is a 404, one it may not report
deployments for a 403); decisions are read through ``gate.selectors`` and filtered with the gate's one FilterSet.
The JWKS is public: anyone may verify a token offline.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import schema
from core.api.viewsets import PortalReadOnlyViewSet, PortalViewSet
from gate import selectors, services, signing
from gate.api.serializers import GateCheckInput, GateDecisionOutputSerializer, JwksSerializer, gate_decision_record
from gate.filtersets import GateDecisionFilterSet
from gate.models import GateDecision

_CHECK_DESCRIPTION = (
    "Whoever may report deployments of the model (a CI service account scoped to it, its owners, Risk Officers) "
    "asks whether `digest` of the version may go to `environment`. The answer is always 200 with `decision` "
    "`allow` or `deny`, the machine-readable `reasons`, and `token`: a compact JWS signed with the portal's key "
    "(verify it with `/api/v1/gate/jwks/`). Every answer is recorded as a decision and in the ledger. Reason codes: "
    "`version_not_found`, `model_retired`, `not_approved`, `approval_expired`, `digest_mismatch`, "
    "`blocking_findings_open`, `bias_audit_failing`, `bias_audit_missing`, `evidence_missing` "
    "(see docs/deployment-gate.md). In environments the operator leaves ungated the decision is `allow` and "
    "`gated` false; the reasons are advisory."
)


@extend_schema_view(
    create=extend_schema(
        summary="Ask the deployment gate",
        description=_CHECK_DESCRIPTION,
        request=GateCheckInput,
        examples=[
            OpenApiExample(
                "Question",
                request_only=True,
                value={
                    "model": "CR-0042",
                    "version": "2.3.0",
                    "environment": "production",
                    "digest": "sha256:" + "ab" * 32,
                    "ci_run_url": "https://ci.bank.example/runs/1234",
                    "commit_sha": "0123456789abcdef0123456789abcdef01234567",
                },
            )
        ],
        responses={
            200: GateDecisionOutputSerializer,
            **schema.error_responses(
                400, 401, 403, 404, example={"digest": ["A digest is 'sha256:' followed by 64 lower-case hex digits."]}
            ),
        },
    ),
)
class GateCheckViewSet(PortalViewSet):
    """``POST /api/v1/gate/check/``: one question, one recorded and signed decision."""

    output_serializer_class = GateDecisionOutputSerializer
    filter_backends: list[Any] = []
    pagination_class = None

    def get_queryset(self) -> QuerySet[GateDecision]:
        """Decisions the caller may see (the answer is read back through the selector)."""
        return selectors.gate_decision_queryset(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Decide through the service; 200 whether the answer is allow or deny."""
        data = self.read_input(GateCheckInput)
        pipeline = {name: data.pop(name) for name in ("ci_run_url", "commit_sha") if name in data}
        decision = services.gate_check(
            actor=self.actor,
            model_key=data["model"],
            version_label=data["version"],
            environment=data["environment"],
            digest=data["digest"],
            pipeline=pipeline,
        )
        return Response(gate_decision_record(decision, self.get_serializer_context()))


@extend_schema_view(
    list=extend_schema(
        summary="List gate decisions",
        description="Newest first. CI service accounts and owners see the decisions on their models; Risk Officers, "
        "Auditors and Admins see all. Filters: `model` (key), `version` (label), `environment`, `decision` "
        "(allow or deny).",
        responses={200: GateDecisionOutputSerializer(many=True), **schema.error_responses(*schema.LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One gate decision by id (the token's `jti`)",
        responses={200: GateDecisionOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
)
class GateDecisionViewSet(PortalReadOnlyViewSet):
    """Recorded gate decisions, looked up by their id."""

    filterset_class = GateDecisionFilterSet
    output_serializer_class = GateDecisionOutputSerializer

    def get_queryset(self) -> QuerySet[GateDecision]:
        """Decisions the caller may see, with what the answer shows loaded."""
        return selectors.gate_decision_queryset(user=self.request.user).select_related("ledger_event")


@extend_schema_view(
    list=extend_schema(
        summary="The portal's public keys (JWKS)",
        description="Public: no authentication. Verify a decision token with the key whose `kid` matches the "
        "token's header. Also served at `/.well-known/jwks.json`.",
        responses={200: JwksSerializer},
    ),
)
class GateJwksViewSet(mixins.ListModelMixin, PortalViewSet):
    """``GET /api/v1/gate/jwks/``: the JWKS, for anyone."""

    output_serializer_class = JwksSerializer
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    filter_backends: list[Any] = []
    pagination_class = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The current public key and those of previous keys still trusted."""
        return Response(signing.public_jwks(), headers={"Cache-Control": "public, max-age=300"})
