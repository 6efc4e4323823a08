"""API v1: webhook subscriptions with their delivery logs, redelivery, and re-stratification jobs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from intake.models import (
    DeliveryStatus,
    JobStatus,
    RestratificationJob,
    WebhookAttempt,
    WebhookDelivery,
    WebhookFormat,
    WebhookSubscription,
)
from intake.services.delivery import EVENT_TYPES, delivery_redeliver
from intake.services.ssrf import UnsafeWebhookTarget, resolve_target
from intake.services.webhooks import subscription_create, subscription_update

from .fields import CleanCharField, CleanURLField, StrictSerializer
from .filters import DeliveryFilter
from .pagination import CreatedCursorPagination
from .permissions import get_actor

# --- serializers --------------------------------------------------------------------------------


def _status_field(choices: type[DeliveryStatus] | type[JobStatus]) -> serializers.CharField:
    """A read-only status, its values listed in the description: an enum here would be hoisted
    into a component and collide with the flags' `status` enum (drf-spectacular W001)."""

    @extend_schema_field(
        {"type": "string", "readOnly": True, "description": "One of: " + ", ".join(choices.values) + "."}
    )
    class StatusField(serializers.CharField):
        pass

    return StatusField(read_only=True)


class WebhookSubscriptionSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    url = CleanURLField(max_length=2000)
    description = CleanCharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False, max_length=len(EVENT_TYPES)
    )
    format = serializers.ChoiceField(choices=WebhookFormat.choices, default=WebhookFormat.JSON)
    is_active = serializers.BooleanField(default=True)
    paused_until = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Set while the receiver is failing: nothing is sent before this time (a change lifts it).",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_url(self, value: str) -> str:
        try:
            resolve_target(value)
        except UnsafeWebhookTarget as exc:
            raise serializers.ValidationError(str(exc), code="unsafe_url") from exc
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        return sorted(set(value))


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret. Shown only in this response: store it now."
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "status_code", "latency_ms", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    seq = serializers.IntegerField(source="event.seq", read_only=True)
    subscription = serializers.UUIDField(source="subscription_id", read_only=True)
    attempts = WebhookAttemptSerializer(many=True, read_only=True)
    status = _status_field(DeliveryStatus)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event_type",
            "seq",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "dead_at",
            "created_at",
            "attempts",
        ]
        read_only_fields = fields


class RestratificationJobSerializer(serializers.ModelSerializer):
    clinic: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    status = _status_field(JobStatus)

    class Meta:
        model = RestratificationJob
        fields = [
            "id",
            "ruleset",
            "clinic",
            "status",
            "batch_size",
            "total",
            "batches_total",
            "batches_done",
            "created",
            "skipped",
            "failed",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


# --- views --------------------------------------------------------------------------------------


class StartedCursorPagination(CreatedCursorPagination):
    ordering = ("-started_at", "-pk")


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions (secrets are never shown again)"),
    retrieve=extend_schema(summary="Get a webhook subscription"),
    create=extend_schema(
        summary="Subscribe a URL to events: the response shows the signing secret, once",
        responses={201: WebhookSubscriptionCreatedSerializer},
    ),
    update=extend_schema(summary="Replace a subscription's URL, events, format and state"),
    partial_update=extend_schema(summary="Change some of a subscription"),
    destroy=extend_schema(summary="Delete a subscription and its delivery log"),
)
class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions of the caller's clinic (scope flags:read / flags:write)."""

    scope_resource = "flags"
    serializer_class = WebhookSubscriptionSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(clinic=get_actor(self.request).clinic).order_by(
            "-created_at", "pk"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = get_actor(request)
        subscription = subscription_create(
            clinic=actor.clinic, created_by=actor.label, **serializer.validated_data
        )
        body = WebhookSubscriptionCreatedSerializer(subscription).data
        return Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{subscription.pk}/"}
        )

    def perform_update(self, serializer: WebhookSubscriptionSerializer) -> None:  # type: ignore[override]
        assert isinstance(serializer.instance, WebhookSubscription)
        serializer.instance = subscription_update(
            subscription=serializer.instance, changes=dict(serializer.validated_data)
        )

    @extend_schema(
        summary="Delivery log of a subscription, newest first",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=DeliveryStatus.values,
                description="Only deliveries in this state.",
            )
        ],
        responses=WebhookDeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        # Filtered here, not through filterset_class: get_object() filters the subscriptions
        # with the view's filter backends, which would apply a delivery filter to them.
        filterset = DeliveryFilter(
            request.query_params,
            queryset=WebhookDelivery.objects.filter(subscription=subscription)
            .select_related("event")
            .prefetch_related("attempts")
            .order_by("-created_at", "pk"),
            request=request,
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        queryset = filterset.qs
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
        return Response(WebhookDeliverySerializer(queryset, many=True).data)


class WebhookDeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Single deliveries of the caller's clinic: read, and send again."""

    scope_resource = "flags"
    serializer_class = WebhookDeliverySerializer
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return (
            WebhookDelivery.objects.filter(subscription__clinic=get_actor(self.request).clinic)
            .select_related("event")
            .prefetch_related("attempts")
        )

    @extend_schema(summary="Get a delivery with its attempts")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Send a delivery again now (same webhook-id), with a fresh retry schedule",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        delivery = delivery_redeliver(delivery=self.get_object())
        fresh = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(fresh).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="Re-stratification jobs of your clinic"),
    retrieve=extend_schema(summary="Progress of a re-stratification job"),
)
class RestratificationJobViewSet(viewsets.ReadOnlyModelViewSet):
    """Backfill jobs started with `manage.py restratify --clinic <slug>` (progress counts only)."""

    scope_resource = "intakes"
    serializer_class = RestratificationJobSerializer
    pagination_class = StartedCursorPagination
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[RestratificationJob]:
        if getattr(self, "swagger_fake_view", False):
            return RestratificationJob.objects.none()
        return (
            RestratificationJob.objects.filter(clinic=get_actor(self.request).clinic)
            .select_related("clinic")
            .order_by("-started_at", "pk")
        )
