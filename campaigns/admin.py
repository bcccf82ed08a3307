"""Admin for ops staff: follow jobs, read their payload, error and object tree, retry or cancel."""

from __future__ import annotations

import json
import uuid

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from audit.admin import recent_changes
from campaigns import services
from campaigns.live_admin import LiveObjectAdminMixin
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, MediaAsset, ObjectType
from campaigns.selectors import job_with_tree


def _pretty_json(value: object) -> SafeString:
    return format_html(
        '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


class ReadOnlyAdminMixin:
    """Jobs and plans are written by the API and the workers only."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MediaAssetInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MediaAsset
    fields = ["kind", "source_url", "platform_id", "platform_status"]
    readonly_fields = fields
    extra = 0


@admin.register(CampaignJob)
class CampaignJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "campaign_name",
        "status",
        "platform_type",
        "ad_account",
        "attempts",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "platform_type", "ad_account", "team"]
    search_fields = ["=id", "campaign__name", "platform_campaign_id"]
    list_select_related = ["campaign", "ad_account"]
    date_hierarchy = "created_at"
    actions = ["retry_jobs", "cancel_jobs"]
    inlines = [MediaAssetInline]
    fieldsets = [
        (None, {"fields": ["id", "status", "platform_type", "ad_account", "team", "created_by"]}),
        (
            "Progress",
            {
                "fields": [
                    "attempts",
                    "next_attempt_at",
                    "lease_expires_at",
                    "claimed_by",
                    "published_at",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "updated_at",
                ]
            },
        ),
        ("Result", {"fields": ["platform_campaign_id", "object_tree", "error_pretty"]}),
        ("Request", {"fields": ["idempotency_key", "payload_pretty"]}),
    ]
    readonly_fields = [field for _, spec in fieldsets for field in spec["fields"]]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        # `=id` on a UUID column fails on text that is not a UUID: search names only then.
        try:
            uuid.UUID(search_term.strip())
        except ValueError:
            return queryset.filter(campaign__name__icontains=search_term.strip()), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="campaign", ordering="campaign__name")
    def campaign_name(self, job: CampaignJob) -> str:
        campaign = getattr(job, "campaign", None)
        return campaign.name if campaign else "—"

    @admin.display(description="payload")
    def payload_pretty(self, job: CampaignJob) -> SafeString:
        return _pretty_json(job.payload)

    @admin.display(description="error")
    def error_pretty(self, job: CampaignJob) -> SafeString | str:
        return _pretty_json(job.error) if job.error else "—"

    @admin.display(description="objects (platform IDs)")
    def object_tree(self, job: CampaignJob) -> SafeString | str:
        tree = job_with_tree(CampaignJob.objects.select_related("campaign")).get(pk=job.pk)
        campaign = getattr(tree, "campaign", None)
        if campaign is None:
            return "—"
        ad_sets = campaign.ad_sets.all()

        def ads_html(ad_set: AdSet) -> SafeString:
            return format_html_join(
                "",
                "<li>Ad {} — <code>{}</code>, creative <code>{}</code></li>",
                (
                    (ad.name, ad.platform_id or "not created", ad.creative.platform_id or "—")
                    for ad in ad_set.ads.all()
                ),
            )

        sets_html = format_html_join(
            "",
            "<li>Ad set {} — <code>{}</code><ul>{}</ul></li>",
            ((s.name, s.platform_id or "not created", ads_html(s)) for s in ad_sets),
        )
        link = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        return format_html(
            '<ul><li>Campaign <a href="{}">{}</a> — <code>{}</code><ul>{}</ul></li></ul>',
            link,
            campaign.name,
            campaign.platform_id or "not created",
            sets_html,
        )

    def _report(
        self, request: HttpRequest, done: int, refused: list[str], verb: str, allowed: str
    ) -> None:
        if done:
            self.message_user(request, f"{done} job(s) {verb}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{len(refused)} job(s) skipped (only {allowed} jobs): {', '.join(refused)}",
                messages.WARNING,
            )

    @admin.action(
        description="Retry selected jobs (resume from checkpoints)", permissions=["change"]
    )
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[CampaignJob]) -> None:
        done, refused = 0, []
        for job in queryset:
            try:
                services.job_retry(job=job, actor=request.user)
                done += 1
            except services.JobStateConflict:
                refused.append(str(job.pk))
        self._report(request, done, refused, "queued for retry", "FAILED or PARTIAL_SUCCESS")

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[CampaignJob]) -> None:
        done, refused = 0, []
        for job in queryset:
            try:
                services.job_cancel(job=job, actor=request.user)
                done += 1
            except services.JobStateConflict:
                refused.append(str(job.pk))
        self._report(request, done, refused, "cancelled", "PENDING")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Actions need change permission on the changelist; the form itself stays read-only
        # because every field is in readonly_fields.
        return request.user.has_perm("campaigns.change_campaignjob")


class AdInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Ad
    fields = ["position", "name", "status", "effective_status", "platform_id", "creative"]
    readonly_fields = fields
    extra = 0


@admin.register(AdSet)
class AdSetAdmin(LiveObjectAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    object_type = ObjectType.AD_SET
    account_path = "campaign__ad_account"
    list_display = [
        "name",
        "campaign",
        "status",
        "platform_status",
        "platform_id_display",
        "created_at",
    ]
    list_filter = ["status", "effective_status"]
    search_fields = ["name", "platform_id", "campaign__name"]
    list_select_related = ["campaign__ad_account"]
    readonly_fields = [
        "campaign",
        "position",
        "name",
        "status",
        "effective_status",
        "platform_issues",
        "delivery_chart",
        "platform_id",
        "synced_at",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [AdInline]


class AdSetInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AdSet
    fields = ["position", "name", "status", "effective_status", "platform_id", "ad_count"]
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[AdSet]:
        # Counted in the inline's own query, not once per row.
        return super().get_queryset(request).annotate(ads_counted=Count("ads"))

    @admin.display(description="ads")
    def ad_count(self, ad_set: AdSet) -> int:
        return ad_set.ads_counted


@admin.register(Campaign)
class CampaignAdmin(LiveObjectAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    object_type = ObjectType.CAMPAIGN
    account_path = "ad_account"
    list_display = [
        "name",
        "ad_account",
        "status",
        "platform_status",
        "platform_id_display",
        "job_link",
        "created_at",
    ]
    # Only accounts with campaigns listed here: staff of one team never see others' names.
    list_filter = [
        "status",
        "effective_status",
        "ad_account__platform_type",
        ("ad_account", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "platform_id"]
    list_select_related = ["ad_account", "job"]
    readonly_fields = [
        "name",
        "status",
        "effective_status",
        "platform_issues",
        "delivery_chart",
        "platform_id",
        "synced_at",
        "ad_account",
        "job_link",
        "created_at",
        "recent_changes",
    ]
    fields = readonly_fields
    inlines = [AdSetInline]

    @admin.display(description="recent changes")
    def recent_changes(self, campaign: Campaign) -> SafeString:
        # The campaign's, its ad sets' and its ads' events: three small reads of ids.
        ids = [
            campaign.pk,
            *AdSet.objects.filter(campaign=campaign).values_list("pk", flat=True),
            *Ad.objects.filter(ad_set__campaign=campaign).values_list("pk", flat=True),
        ]
        return recent_changes(ids, search=campaign.pk)

    @admin.display(description="job")
    def job_link(self, campaign: Campaign) -> SafeString:
        url = reverse("admin:campaigns_campaignjob_change", args=[campaign.job_id])
        return format_html('<a href="{}">{} ({})</a>', url, campaign.job_id, campaign.job.status)
