"""Admin for live objects: campaigns, ad sets and ads with their status on the platform, and the
actions pause, resume and archive, which go through `campaigns.live` as the API does (a job per
object, validated by the platform's rules first).

Each object's page shows what the platform said at the last sync beside its status: its issues,
an ad's review feedback, and its spend of the last days as a small chart (inline SVG drawn here:
no script, nothing fetched).

Staff who are not superusers see only objects of their teams' live ad accounts, as the API
shows them. The rows stay read-only: every change is a job, so that the platform decides first.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from rest_framework.exceptions import ValidationError

from adaccounts.selectors import ad_account_list_for_user
from campaigns import live
from campaigns.insights import spend_by_day
from campaigns.models import Ad, Campaign, ObjectType

CHART_DAYS = 30
CHART_HEIGHT = 60
BAR_WIDTH = 10


def spend_chart(rows: list[tuple[Any, int, str]]) -> SafeString:
    """Spend per day as bars (inline SVG, one bar per day with figures, its day and amount in
    its tooltip); "no figures" without any."""
    if not rows:
        return format_html("No delivery figures synced in the last {} days.", CHART_DAYS)
    highest = max(spend for _, spend, _ in rows) or 1
    currency = next((c for _, _, c in reversed(rows) if c), "")
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690"><title>{}: {} {}</title></rect>',
        (
            (
                n * BAR_WIDTH,
                CHART_HEIGHT - max(1, spend * CHART_HEIGHT // highest),
                BAR_WIDTH - 2,
                max(1, spend * CHART_HEIGHT // highest),
                day.isoformat(),
                spend,
                currency,
            )
            for n, (day, spend, _) in enumerate(rows)
        ),
    )
    total = sum(spend for _, spend, _ in rows)
    return format_html(
        '<svg class="spend-chart" role="img" width="{}" height="{}" viewBox="0 0 {} {}" '
        'aria-label="Spend per day">{}</svg>'
        "<div>{} days with figures, {} to {}: spend {} {} in all (minor units), at most {} "
        "a day.</div>",
        len(rows) * BAR_WIDTH,
        CHART_HEIGHT,
        len(rows) * BAR_WIDTH,
        CHART_HEIGHT,
        bars,
        len(rows),
        rows[0][0].isoformat(),
        rows[-1][0].isoformat(),
        total,
        currency,
        highest,
    )


def issues_html(issues: Any) -> SafeString:
    """The platform's issues (Meta's `issues_info`: level, error code, summary, message)."""
    if not issues:
        return format_html("{}", "—")
    items = issues if isinstance(issues, list) else [issues]
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li><strong>{}</strong> ({} {}, {}): {}</li>",
            (
                (
                    item.get("error_summary", ""),
                    item.get("level", ""),
                    item.get("error_type", ""),
                    item.get("error_code", ""),
                    item.get("error_message", ""),
                )
                if isinstance(item, dict)
                else (str(item), "", "", "", "")
                for item in items
            ),
        ),
    )


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

    @admin.display(description="issues")
    def platform_issues(self, obj: Any) -> SafeString:
        return issues_html(obj.issues)

    @admin.display(description=f"spend per day (last {CHART_DAYS} days)")
    def delivery_chart(self, obj: Any) -> SafeString:
        # One small query of the object's own rows.
        return spend_chart(spend_by_day(object_id=obj.pk, days=CHART_DAYS))

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
        "review_feedback_display",
        "platform_issues",
        "delivery_chart",
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

    @admin.display(description="review feedback")
    def review_feedback_display(self, ad: Ad) -> SafeString:
        # Meta's `ad_review_feedback`: {"global": {reason: text}, "placement_specific": ...}.
        feedback = ad.review_feedback or {}
        lines = [
            (reason, scope, text)
            for scope, reasons in feedback.items()
            if isinstance(reasons, dict)
            for reason, text in reasons.items()
        ]
        if not lines:
            return format_html("{}", "—")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{} ({}): {}</li>", lines),
        )

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
