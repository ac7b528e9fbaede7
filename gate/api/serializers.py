"""Bodies of the gate API: the question a pipeline asks, a decision as the API answers it, and the JWKS."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import InputSerializer, StrictCharField, answer_time_zone, detail_url, iso_datetime
from gate.choices import GateOutcome, ReasonCode
from gate.models import GateDecision


class GateCheckInput(InputSerializer):
    """May this digest of this version go to this environment? Formats are checked by the gate's service."""

    change_reason = None  # type: ignore[assignment]  # a question, not a change: nothing to explain
    model = StrictCharField(max_length=20, help_text="The model's key, e.g. `CR-0042`.")
    version = StrictCharField(max_length=50, help_text="The version label, e.g. `2.3.0`.")
    environment = StrictCharField(max_length=50, help_text="Where it is about to go, e.g. `production`.")
    digest = StrictCharField(
        max_length=71, help_text="`sha256:` + 64 hex digits of the image or model file about to be deployed."
    )
    ci_run_url = StrictCharField(
        required=False, allow_blank=True, max_length=2000, help_text="The asking pipeline run's URL."
    )
    commit_sha = StrictCharField(
        required=False, allow_blank=True, max_length=40, help_text="The commit the pipeline builds (40 hex)."
    )


class GateReasonSerializer(serializers.Serializer):
    """Why the gate denies (or, in an ungated environment, would deny)."""

    code = serializers.ChoiceField(choices=ReasonCode.choices, read_only=True)
    message = serializers.CharField(read_only=True)


class PipelineContextSerializer(serializers.Serializer):
    """What the pipeline said about itself."""

    # Always in the answer ("" when the pipeline did not say), as the schema documents them.
    ci_run_url = serializers.CharField(read_only=True, default="")
    commit_sha = serializers.CharField(read_only=True, default="")


class GateDecisionLinksSerializer(serializers.Serializer):
    """Where to find the decision and the keys that verify its token."""

    self = serializers.URLField(read_only=True)
    jwks = serializers.URLField(read_only=True)


class GateDecisionOutputSerializer(serializers.ModelSerializer):
    """A gate decision: allow or deny, the reasons, and the signed token (compact JWS) that proves it."""

    decision_id = serializers.UUIDField(source="id", read_only=True)
    decision = serializers.ChoiceField(choices=GateOutcome.choices, read_only=True)
    reasons = GateReasonSerializer(many=True, read_only=True)
    model = serializers.CharField(source="model.key", read_only=True)
    version = serializers.CharField(source="version_label", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    pipeline = PipelineContextSerializer(read_only=True)
    ledger_seq = serializers.IntegerField(source="ledger_event.seq", read_only=True, allow_null=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = GateDecision
        fields = [
            "decision_id",
            "decision",
            "reasons",
            "token",
            "expires_at",
            "model",
            "version",
            "environment",
            "digest",
            "gated",
            "pipeline",
            "requested_by",
            "created_at",
            "ledger_seq",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(GateDecisionLinksSerializer)
    def get_links(self, decision: GateDecision) -> dict[str, str]:
        """API links of the decision."""
        return decision_links(decision, self.context)


def decision_links(decision: GateDecision, context: dict[str, Any]) -> dict[str, str]:
    """Where to find the decision and the keys that verify its token (absolute when the request is known)."""
    request = context.get("request")
    jwks = request.build_absolute_uri("/api/v1/gate/jwks/") if request is not None else "/api/v1/gate/jwks/"
    return {"self": detail_url(context, "gatedecision-detail", decision.pk), "jwks": jwks}


def gate_decision_record(decision: GateDecision, context: dict[str, Any]) -> dict[str, Any]:
    """``decision`` in the shape of :class:`GateDecisionOutputSerializer`, without a serializer's fields.

    The gate answers every pipeline with this: building the serializer's fields (its nested reasons, pipeline and
    links) cost about half a millisecond of a decision. The serializer stays the documented schema and renders
    the decisions the list and detail endpoints read back; a test keeps the two equal.
    """
    zone = answer_time_zone(context)
    pipeline = decision.pipeline or {}
    return {
        "decision_id": str(decision.id),
        "decision": str(decision.decision),
        "reasons": [{"code": str(reason["code"]), "message": str(reason["message"])} for reason in decision.reasons],
        "token": decision.token,
        "expires_at": iso_datetime(decision.expires_at, zone),
        "model": decision.model.key,
        "version": decision.version_label,
        "environment": decision.environment,
        "digest": decision.digest,
        "gated": decision.gated,
        # As PipelineContextSerializer: "" when the pipeline did not say, None kept as None.
        "pipeline": {
            name: None if value is None else str(value)
            for name, value in ((name, pipeline.get(name, "")) for name in ("ci_run_url", "commit_sha"))
        },
        "requested_by": decision.requested_by.username,
        "created_at": iso_datetime(decision.created_at, zone),
        "ledger_seq": decision.ledger_event.seq if decision.ledger_event is not None else None,
        "links": decision_links(decision, context),
    }


class JwkSerializer(serializers.Serializer):
    """One public key (RFC 7517)."""

    kty = serializers.CharField(read_only=True)
    crv = serializers.CharField(read_only=True)
    x = serializers.CharField(read_only=True)
    y = serializers.CharField(read_only=True, required=False)
    kid = serializers.CharField(read_only=True, help_text="RFC 7638 thumbprint; the `kid` header of tokens.")
    alg = serializers.CharField(read_only=True)
    use = serializers.CharField(read_only=True)


# Served by a viewset's list action, which the schema generator would otherwise document as an array of these.
@extend_schema_serializer(many=False)
class JwksSerializer(serializers.Serializer):
    """The portal's public keys for verifying decision tokens (current first)."""

    keys = JwkSerializer(many=True, read_only=True)

    def to_representation(self, instance: Any) -> Any:
        """The JWKS dict as it is."""
        return instance
