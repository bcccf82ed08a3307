"""Admin for live objects: campaigns, ad sets and ads with their status on the platform, and the
actions pause, resume and archive, which go through `campaigns.live` as the API does (a job per
object, validated by the platform's rules first).

Staff who are not superusers see only objects of their teams' live ad accounts, as the API
shows them. The rows stay read-only: every change is a job, so that the platform decides first.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from rest_framework.exceptions import ValidationError

from adaccounts.selectors import ad_account_list_for_user
from campaigns import live
from campaigns.models import Ad, Campaign, ObjectType


def _describe(detail: Any, path: str = "") -> list[str]:
    """A DRF error detail as "field: message" lines, every field named."""
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in _describe(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            text = " ".join(str(item) for item in detail)
            return [f"{path}: {text}" if path else text]
        return [
            line
            for index, item in enumerate(detail)
            for line in _describe(item, f"{path}.{index}" if path else str(index))
        ]
    return [f"{path}: {detail}" if path else str(detail)]


class LiveObjectAdminMixin:
    """Tenancy, platform state columns and the pause / resume / archive actions."""

    object_type: ClassVar[str]
    # The path from the model to its ad account, for tenancy.
    account_path: ClassVar[str]
    actions = ["pause_objects", "resume_objects", "archive_objects"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        accounts = ad_account_list_for_user(user=request.user)
        return queryset.filter(**{f"{self.account_path}__in": accounts})

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The actions need change permission on the changelist; an object's own page stays
        # read-only (every change is a job).
        if obj is not None:
            return False
        model = self.model._meta  # type: ignore[attr-defined]
        return request.user.has_perm(f"{model.app_label}.change_{model.model_name}")

    @admin.display(description="effective status", ordering="effective_status")
    def platform_status(self, obj: Any) -> str:
        return obj.effective_status or "—"

    @admin.display(description="Meta ID", ordering="platform_id")
    def platform_id_display(self, obj: Any) -> str:
        return obj.platform_id or "not created"

    def _submit_each(
        self, request: HttpRequest, queryset: QuerySet, what: str, submit: Any
    ) -> None:
        """Submit one job per object and report each outcome: the job, or why not."""
        label = ObjectType(self.object_type).label
        for obj in queryset:
            name = f"{label} “{obj.name}” ({obj.pk})"
            try:
                job = submit(obj)
            except ValidationError as exc:
                problems = "; ".join(_describe(exc.detail))
                self.message_user(  # type: ignore[attr-defined]
                    request, f"{name}: not {what}: {problems}", messages.ERROR
                )
            except live.ObjectNotReady as exc:
                self.message_user(  # type: ignore[attr-defined]
                    request, f"{name}: not {what}: {exc}", messages.WARNING
                )
            else:
                self.message_user(  # type: ignore[attr-defined]
                    request, f"{name}: {what}, job {job.pk} ({job.kind}).", messages.SUCCESS
                )

    def _change_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        self._submit_each(
            request,
            queryset,
            f"{status.lower()} change accepted",
            lambda obj: live.live_change_submit(
                user=request.user,
                object_type=self.object_type,
                obj=obj,
                data={"status": status},
            ),
        )

    @admin.action(description="Pause on the platform (a job per object)", permissions=["change"])
    def pause_objects(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._change_status(request, queryset, "PAUSED")

    @admin.action(description="Resume on the platform (a job per object)", permissions=["change"])
    def resume_objects(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._change_status(request, queryset, "ACTIVE")

    @admin.action(
        description="Archive on the platform (a job per object; never deleted)",
        permissions=["change"],
    )
    def archive_objects(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._submit_each(
            request,
            queryset,
            "archiving accepted",
            lambda obj: live.live_archive_submit(
                user=request.user, object_type=self.object_type, obj=obj
            ),
        )


@admin.register(Ad)
class AdAdmin(LiveObjectAdminMixin, admin.ModelAdmin):
    object_type = ObjectType.AD
    account_path = "ad_set__campaign__ad_account"
    list_display = [
        "name",
        "ad_set",
        "status",
        "platform_status",
        "platform_id_display",
        "creative_platform_id",
        "created_at",
    ]
    list_filter = ["status", "effective_status"]
    search_fields = ["name", "platform_id", "ad_set__name", "ad_set__campaign__name"]
    list_select_related = ["ad_set__campaign__ad_account", "creative"]
    readonly_fields = [
        "name",
        "status",
        "effective_status",
        "platform_id",
        "review_feedback",
        "synced_at",
        "ad_set",
        "campaign_link",
        "creative",
        "creative_platform_id",
        "job_link",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="creative Meta ID")
    def creative_platform_id(self, ad: Ad) -> str:
        return ad.creative.platform_id or "not created"

    @admin.display(description="campaign")
    def campaign_link(self, ad: Ad) -> SafeString:
        campaign: Campaign = ad.ad_set.campaign
        url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        return format_html('<a href="{}">{}</a>', url, campaign.name)

    @admin.display(description="job")
    def job_link(self, ad: Ad) -> SafeString:
        url = reverse("admin:campaigns_campaignjob_change", args=[ad.job_id])
        return format_html('<a href="{}">{}</a>', url, ad.job_id)
