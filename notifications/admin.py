"""Deliveries in the admin: read-only (each attempt as it happened), with a "send now" action
for ops. No secret is anywhere here: deliveries do not hold one, and the team's is never shown.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from notifications.delivery import delivery_send_now
from notifications.models import WebhookAttempt, WebhookDelivery


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "at", "succeeded", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    ordering = ["number"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "team",
        "target",
        "url",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event__type", "target", "event__team"]
    list_select_related = ["event__team"]
    search_fields = ["=id", "=event__id", "=event__object_id", "=event__job__id"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "event_id",
        "event_type",
        "team",
        "object_id",
        "target",
        "url",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "created_at",
        "updated_at",
        "body_data",
    ]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["send_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("event__team")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        return False

    @admin.display(description="Type", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="Team", ordering="event__team__name")
    def team(self, obj: WebhookDelivery) -> str:
        return str(obj.event.team)

    @admin.display(description="Object")
    def object_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event.object_id)

    @admin.display(description="Data (the body's data)")
    def body_data(self, obj: WebhookDelivery) -> str:
        text = json.dumps(obj.event.data, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", text)

    def has_send_permission(self, request: HttpRequest) -> bool:
        # The rows stay read-only; sending again is what the change permission allows.
        return request.user.has_perm("notifications.change_webhookdelivery")

    @admin.action(description="Send now (again, for a failed one)", permissions=["send"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        queued = sum(delivery_send_now(delivery_id=pk) for pk in ids)
        skipped = len(ids) - queued
        self.message_user(request, f"Queued {queued} delivery(ies) to send now.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} left alone: delivered already, or an attempt is in flight.",
                messages.WARNING,
            )
