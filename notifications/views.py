"""`GET /api/v1/webhook_deliveries` and `GET /api/v1/webhook_deliveries/{id}`: the caller's
teams' deliveries with their attempts, newest first. Others' answer 404, as missing ones do."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, viewsets

from notifications.models import DeliveryStatus, DeliveryTarget, EventType, WebhookDelivery
from notifications.selectors import delivery_list_for_user
from notifications.serializers import WebhookDeliveryDetailSerializer, WebhookDeliverySerializer


class WebhookDeliveryFilter(filters.FilterSet):
    type = filters.ChoiceFilter(choices=EventType.choices, field_name="event__type")
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    target = filters.ChoiceFilter(choices=DeliveryTarget.choices)
    job_id = filters.UUIDFilter(field_name="event__job_id")
    ad_account_id = filters.UUIDFilter(field_name="event__ad_account_id")
    object_id = filters.UUIDFilter(field_name="event__object_id")
    event_id = filters.UUIDFilter(field_name="event_id")

    class Meta:
        model = WebhookDelivery
        fields = ["type", "status", "target", "job_id", "ad_account_id", "object_id", "event_id"]


class WebhookDeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Webhook and callback deliveries of the caller's teams, each with every attempt (when,
    the receiver's status code, why it failed, how long it took). One with its event's body."""

    filterset_class = WebhookDeliveryFilter
    queryset = WebhookDelivery.objects.none()  # for the schema generator

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return delivery_list_for_user(user=self.request.user, with_data=self.action == "retrieve")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "retrieve":
            return WebhookDeliveryDetailSerializer
        return WebhookDeliverySerializer
