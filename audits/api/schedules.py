"""Schedules API v1: the portal's beat schedules, for Risk Officers only (everyone else gets a 403).

Reads go through ``audits.scheduling.periodic_task_queryset`` (a schedule that is not the portal's is a 404),
changes through ``schedule_update`` and runs through ``periodic_task_run_now``, which enqueues after the commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_celery_beat.models import PeriodicTask
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audits import scheduling
from core.api import schema
from core.api.serializers import InputSerializer, StrictCharField
from core.api.viewsets import PortalReadOnlyViewSet


class ScheduleUpdateInput(InputSerializer):
    """Whether the schedule runs, and either an interval in minutes or crontab fields (not both)."""

    enabled = serializers.BooleanField(required=False)
    every_minutes = serializers.IntegerField(required=False, help_text="Run every so many minutes (1 or more).")
    minute = StrictCharField(required=False, max_length=240, help_text="Crontab minute, e.g. `0` or `*/15`.")
    hour = StrictCharField(required=False, max_length=240, help_text="Crontab hour, e.g. `3` or `8-18`.")
    day_of_week = StrictCharField(required=False, max_length=64, help_text="Crontab days, e.g. `*` or `mon-fri`.")


class ScheduleOutputSerializer(serializers.ModelSerializer):
    """A schedule: its task, whether it runs, its timing and its last run."""

    kind = serializers.SerializerMethodField(help_text="interval, crontab, solar or clocked.")
    every_minutes = serializers.SerializerMethodField(help_text="For an interval: minutes between runs.")
    minute = serializers.CharField(source="crontab.minute", read_only=True, allow_null=True, default=None)
    hour = serializers.CharField(source="crontab.hour", read_only=True, allow_null=True, default=None)
    day_of_week = serializers.CharField(source="crontab.day_of_week", read_only=True, allow_null=True, default=None)
    schedule = serializers.SerializerMethodField(help_text="The timing in words.")

    class Meta:
        model = PeriodicTask
        fields = [
            "id",
            "name",
            "task",
            "description",
            "enabled",
            "kind",
            "every_minutes",
            "minute",
            "hour",
            "day_of_week",
            "schedule",
            "last_run_at",
            "total_run_count",
            "date_changed",
        ]
        read_only_fields = fields

    def get_kind(self, task: PeriodicTask) -> str:
        """Which kind of schedule the task is on."""
        return next(kind for kind in ("interval", "crontab", "solar", "clocked") if getattr(task, kind) is not None)

    def get_every_minutes(self, task: PeriodicTask) -> float | None:
        """Minutes between runs of an interval schedule."""
        return scheduling.interval_minutes(task)

    def get_schedule(self, task: PeriodicTask) -> str:
        """The interval or crontab as beat describes it."""
        return str(task.scheduler)


@extend_schema_view(
    list=extend_schema(
        summary="List the portal's schedules",
        description="Risk Officers only; by name.",
        responses={200: ScheduleOutputSerializer(many=True), **schema.error_responses(400, 401, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One schedule",
        responses={200: ScheduleOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Change a schedule",
        description="Risk Officers. Pause or resume it (`enabled`), and run it every `every_minutes` (1 or more) or "
        "at crontab `minute`, `hour` and `day_of_week` (not both; crontab fields not given keep their value). Beat "
        "applies the change on its next tick; it is recorded in the row's `date_changed` and the application log.",
        request=ScheduleUpdateInput,
        responses={
            200: ScheduleOutputSerializer,
            **schema.error_responses(*schema.CHANGE_ERRORS, example={"minute": ["Invalid crontab value."]}),
        },
    ),
)
class ScheduleViewSet(mixins.UpdateModelMixin, PortalReadOnlyViewSet):
    """The portal's beat schedules, looked up by id; PATCH only (no PUT)."""

    output_serializer_class = ScheduleOutputSerializer
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[PeriodicTask]:
        """The portal's schedules; refused (403) to anyone but Risk Officers."""
        if getattr(self, "swagger_fake_view", False):
            # Generating the schema has no Risk Officer; it only needs the model.
            return PeriodicTask.objects.none()
        return scheduling.periodic_task_queryset(user=self.actor)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change through the service; the schedule as a read shows it."""
        task = self.get_object()
        changes = self.read_input(ScheduleUpdateInput, partial=True)
        changes.pop("change_reason", None)
        updated = scheduling.schedule_update(actor=self.actor, task=task, **changes)
        return Response(self.output(self.reload(updated)))

    @extend_schema(
        summary="Run a schedule now",
        description="Risk Officers. Enqueues the schedule's task once, with its arguments, once the request "
        "commits; the schedule itself is unchanged.",
        request=None,
        responses={202: ScheduleOutputSerializer, **schema.error_responses(*schema.DETAIL_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Enqueue the task now; 202."""
        task = self.get_object()
        scheduling.periodic_task_run_now(actor=self.actor, task=task)
        return Response(self.output(task), status=status.HTTP_202_ACCEPTED)
