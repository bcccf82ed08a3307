"""Meta SYNC jobs: what Meta says of mojito's live objects now (effective status, review
feedback, issues) and their daily delivery figures, read with a handful of Graph requests per
account, however many objects it has.

The plan, one `SyncRead` row per read (its checkpoint, so a run that stops resumes with the
reads not yet stored):
- statuses: one account-level list per object type (`/act_<id>/campaigns`, `/adsets`,
  `/ads`, Graph API "Ad Account" edges) with `fields`, the objects picked by `filtering`
  (`id` or `campaign.id` IN the synced campaigns) and `effective_status` naming every status
  (the edges leave out archived and deleted objects otherwise), every page read;
- figures: one insights read per level (campaign, ad set, ad: reach does not add up, so
  each level is Meta's own figure), `time_increment=1` over the last few days (Meta restates
  them) or, for a campaign never read, from its creation. An account with many objects uses
  Meta's asynchronous report runs instead (Insights API, "Asynchronous Jobs"): the run is
  started, its `async_status` polled by rescheduling the job (never by sleeping in a
  worker), then its rows read.

A sync spends only spare rate-limit budget: before each request it yields (the job is
deferred, its attempt refunded) while Meta's last usage figure for the account is above
`META_SYNC_MAX_USAGE_PERCENT`, and the claim runs it only while no creation or change job of
the account is running or due (`campaigns.engine.claims`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model, Q
from django.utils import timezone

from adaccounts.models import AdAccount
from audit import services as audit
from campaigns.engine.adapter import Failure, FailureKind, NotSent
from campaigns.engine.steps import Plan, ReadStep, RefreshStep, StartStep, Step, Wait
from campaigns.models import (
    FINAL_STATUSES,
    UNFINISHED_STATUSES,
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    InsightDay,
    ObjectChange,
    ObjectType,
    SyncRead,
)
from mojito.db import Rows
from notifications import events
from platforms.meta import insights, ratelimit
from platforms.meta.calls import meta_call
from platforms.meta.client import MetaClient

logger = logging.getLogger(__name__)


# What the adapter calls the steps of a sync.
SYNC_STATUS, SYNC_INSIGHTS = "sync_status", "sync_insights"
REPORT_START, REPORT_STATUS = "report_start", "report_status"
SYNC_KINDS = frozenset({SYNC_STATUS, SYNC_INSIGHTS, REPORT_START, REPORT_STATUS})

# Objects per page of a list (Graph's default is 25): a page is one request.
PAGE_SIZE = 500
# Campaign ids per `filtering` IN: keeps each request's URL short.
CAMPAIGNS_PER_REQUEST = 100
DISAPPROVED, DELETED = "DISAPPROVED", "DELETED"
LEVELS = (ObjectType.CAMPAIGN, ObjectType.AD_SET, ObjectType.AD)
MODELS: dict[str, type[Model]] = {
    ObjectType.CAMPAIGN: Campaign,
    ObjectType.AD_SET: AdSet,
    ObjectType.AD: Ad,
}


@dataclass(frozen=True)
class StatusRead:
    edge: str  # the ad account's edge
    fields: tuple[str, ...]
    picked_by: str  # the `filtering` field that picks the synced campaigns' objects


STATUS_READS: dict[str, StatusRead] = {
    ObjectType.CAMPAIGN: StatusRead(
        "campaigns", ("id", "status", "effective_status", "issues_info"), "id"
    ),
    ObjectType.AD_SET: StatusRead(
        "adsets", ("id", "status", "effective_status", "issues_info"), "campaign.id"
    ),
    ObjectType.AD: StatusRead(
        "ads",
        ("id", "status", "effective_status", "issues_info", "ad_review_feedback"),
        "campaign.id",
    ),
}
# Every effective status Meta's edges know (Graph API reference, ad / ad set / campaign
# `effective_status`) but DELETED: asking for them brings archived objects too. Deleted ones
# cannot be read through edges (Marketing API, "Manage your ad object's status"), so an
# object the lists leave out under every other status is one Meta deleted.
EFFECTIVE_STATUSES = (
    "ACTIVE",
    "PAUSED",
    "PENDING_REVIEW",
    "DISAPPROVED",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
    "CAMPAIGN_PAUSED",
    "ARCHIVED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
)


# --- accepting a sync ------------------------------------------------------------------------


def _live(queryset: Any) -> Any:
    return queryset.exclude(platform_id=None).exclude(status__in=FINAL_STATUSES)


def scope_campaigns(job: CampaignJob) -> list[Campaign]:
    """The campaigns a sync reads: the one it names, or every live campaign of its account."""
    if job.object_type == ObjectType.CAMPAIGN:
        return list(_live(Campaign.objects.filter(pk=job.object_id)))
    return list(_live(Campaign.objects.filter(ad_account_id=job.ad_account_id)).order_by("pk"))


def _figures_since(campaigns: list[Campaign], today: date) -> date:
    """The first day to read: the last few (Meta restates them), or the creation day of a
    campaign whose figures were never read, no further back than the backfill allows."""
    since = today - timedelta(days=settings.META_INSIGHTS_LOOKBACK_DAYS - 1)
    read = set(
        InsightDay.objects.filter(campaign__in=campaigns, object_type=ObjectType.CAMPAIGN)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    unread = [c.created_at.date() for c in campaigns if c.pk not in read]
    if unread:
        since = min(since, *unread)
    return max(since, today - timedelta(days=settings.META_INSIGHTS_BACKFILL_DAYS - 1))


def plan_meta_sync(*, job: CampaignJob) -> Rows:
    """A SYNC job's payload (the days its figures cover, whether they come by report run)
    and its reads, for the job's campaigns as they are now."""
    campaigns = scope_campaigns(job)
    today = timezone.now().date()
    since = _figures_since(campaigns, today)
    objects = len(campaigns)
    if campaigns:
        objects += _live(AdSet.objects.filter(campaign__in=campaigns)).count()
        objects += _live(Ad.objects.filter(ad_set__campaign__in=campaigns)).count()
    days = (today - since).days + 1
    job.payload = {
        **(job.payload or {}),
        "since": since.isoformat(),
        "until": today.isoformat(),
        # Meta's advice: big reads as report runs, which do not time out (rows: objects times days).
        "report_runs": objects * days >= settings.META_INSIGHTS_ASYNC_MIN_ROWS,
    }
    names = [f"status:{t}" for t in LEVELS] + [f"insights:{t}" for t in LEVELS]
    reads = [SyncRead(job=job, position=n, name=name) for n, name in enumerate(names)]
    return [(SyncRead, reads)]


# --- running it ------------------------------------------------------------------------------


class SyncRun:
    """The reads of one run of a SYNC job, and where their answers are stored."""

    def __init__(
        self, job: CampaignJob, account: AdAccount, client: MetaClient, account_key: str
    ) -> None:
        self.job = job
        self.account = account
        self.client = client
        self.account_key = account_key
        self.campaigns = scope_campaigns(job)
        self.campaign_ids = [str(c.platform_id) for c in self.campaigns]

    def build_plan(self) -> Plan:
        reads = {read.name: read for read in SyncRead.objects.filter(job=self.job)}
        steps: list[Step] = []
        if not self.campaigns:
            return Plan(steps=[])
        for object_type in LEVELS:
            read = reads[f"status:{object_type}"]
            steps.append(
                RefreshStep(
                    f"statuses of {ObjectType(object_type).label.lower()}s",
                    SYNC_STATUS,
                    read,
                    store=self._status_store(object_type),
                )
            )
        for level in LEVELS:
            steps += self._insights_steps(level, reads[f"insights:{level}"])
        return Plan(steps=steps)

    def _insights_steps(self, level: str, read: SyncRead) -> list[Step]:
        label = f"figures of {ObjectType(level).label.lower()}s"
        store = self._insights_store(level)
        if not self.job.payload.get("report_runs"):
            return [RefreshStep(label, SYNC_INSIGHTS, read, store=store)]
        start = StartStep(
            f"{label} (report)",
            REPORT_START,
            read,
            field="report_id",
            status_field="report_status",
            restart=insights.REPORT_GAVE_UP,
        )
        status = ReadStep(
            f"{label} (report status)",
            REPORT_STATUS,
            read,
            (start,),
            field="report_status",
            complete=frozenset({insights.REPORT_COMPLETED}),
        )
        return [start, status, RefreshStep(label, SYNC_INSIGHTS, read, (status,), store=store)]

    # --- one step ------------------------------------------------------------------------

    def run(self, step: Step) -> Any:
        self._yield_if_busy()
        read: SyncRead = step.row  # type: ignore[assignment]
        level = read.name.partition(":")[2]
        if step.kind == SYNC_STATUS:
            started = timezone.now()
            return {"rows": self._list_statuses(level), "started": started}
        params = insights.insights_params(
            level=level,
            since=date.fromisoformat(self.job.payload["since"]),
            until=date.fromisoformat(self.job.payload["until"]),
            campaign_ids=self.campaign_ids,
        )
        if step.kind == REPORT_START:
            return insights.start_insights_report(self.client, self.account_key, params=params)
        if step.kind == REPORT_STATUS:
            return self._report_status(read)
        if read.report_id:
            return insights.read_insights_report(self.client, self.account_key, read.report_id)
        return insights.read_insights(self.client, self.account_key, params=params)

    def _yield_if_busy(self) -> None:
        usage = ratelimit.recent_usage(self.account_key)
        if usage is not None and usage >= settings.META_SYNC_MAX_USAGE_PERCENT:
            raise NotSent(
                settings.META_USAGE_PAUSE_SECONDS,
                f"sync yields: Meta's usage of the account is at {usage:.0f}%",
            )

    def _report_status(self, read: SyncRead) -> Any:
        status, percent = insights.insights_report_status(
            self.client, self.account_key, str(read.report_id)
        )
        if status == insights.REPORT_COMPLETED:
            return status
        waited = (timezone.now() - (self.job.started_at or timezone.now())).total_seconds()
        if waited > settings.META_INSIGHTS_REPORT_MAX_WAIT_SECONDS:
            raise Failure(
                FailureKind.PERMANENT,
                f"Meta's insights report {read.report_id} was not ready {waited / 60:.0f} "
                f"minutes after the sync started (status {status}); the next sync starts "
                "another.",
                step="insights report",
            )
        # Gave up: recorded, so that the start step runs again for a new report.
        seconds = 0.0 if status in insights.REPORT_GAVE_UP else settings.META_INSIGHTS_POLL_SECONDS
        return Wait(status, seconds, f"insights report {status} ({percent}%)")

    def _list_statuses(self, object_type: str) -> list[dict[str, Any]]:
        spec = STATUS_READS[object_type]
        found: list[dict[str, Any]] = []
        for n in range(0, len(self.campaign_ids), CAMPAIGNS_PER_REQUEST):
            chunk = self.campaign_ids[n : n + CAMPAIGNS_PER_REQUEST]
            params: dict[str, Any] = {
                "fields": ",".join(spec.fields),
                "filtering": [{"field": spec.picked_by, "operator": "IN", "value": chunk}],
                "effective_status": list(EFFECTIVE_STATUSES),
                "limit": PAGE_SIZE,
            }
            found += self._all_pages(f"sync ({spec.edge})", (spec.edge,), params)
        return found

    def _all_pages(
        self, step: str, path: tuple[str, ...], params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Every page of an edge of the ad account, one Meta call per page."""
        found: list[dict[str, Any]] = []
        params = dict(params)
        while True:
            answer = meta_call(
                self.client,
                self.account_key,
                step,
                lambda: self.client.api.call("GET", (self.client.account_id, *path), params=params),
            ).json()
            found += answer.get("data") or []
            paging = answer.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return found
            self._yield_if_busy()
            params["after"] = after

    # --- storing what was read -------------------------------------------------------------

    def _status_store(self, object_type: str) -> Callable[[Any], None]:
        def store(result: dict[str, Any]) -> None:
            store_statuses(
                self.job, object_type, result["rows"], self.campaigns, started=result["started"]
            )

        return store

    def _insights_store(self, level: str) -> Callable[[Any], None]:
        def store(rows: list[dict[str, Any]]) -> None:
            insights.insights_store(
                account=self.account, level=level, rows=rows, now=timezone.now()
            )

        return store


def _scope_rows(object_type: str, campaigns: list[Campaign]) -> dict[str, Any]:
    if object_type == ObjectType.CAMPAIGN:
        rows: Any = campaigns
    elif object_type == ObjectType.AD_SET:
        rows = _live(AdSet.objects.filter(campaign__in=campaigns))
    else:
        rows = _live(Ad.objects.filter(ad_set__campaign__in=campaigns))
    return {str(row.platform_id): row for row in rows}


def _changing(object_ids: list[Any], since: Any) -> set[Any]:
    """Objects with a change applied since the read started, or one accepted and not run
    yet: their configured status is mojito's to say, not this read's."""
    return set(
        ObjectChange.objects.filter(object_id__in=object_ids)
        .filter(Q(applied_at__gte=since) | Q(job__status__in=UNFINISHED_STATUSES))
        .values_list("object_id", flat=True)
    )


def store_statuses(
    job: CampaignJob,
    object_type: str,
    answered: list[dict[str, Any]],
    campaigns: list[Campaign],
    *,
    started: Any,
) -> None:
    """What Meta said of each object, onto its row: effective status, issues, review feedback
    (ads), and its configured status unless mojito changes it meanwhile. Every change is
    audited (actor: the system); an ad newly DISAPPROVED is announced (`ad.disapproved`)."""
    rows = _scope_rows(object_type, campaigns)
    now = timezone.now()
    seen = list(rows.values())
    changing = _changing([row.pk for row in seen], started)
    changed: list[Any] = []
    audited = []
    disapproved = []
    listed = {str(data.get("id")) for data in answered}
    gone = [
        {"id": platform_id, "status": DELETED, "effective_status": DELETED}
        for platform_id in rows
        if platform_id not in listed
    ]
    for data in [*answered, *gone]:
        row = rows.get(str(data.get("id")))
        if row is None:
            continue
        new: dict[str, Any] = {
            "effective_status": data.get("effective_status") or "",
            "issues": data.get("issues_info") or None,
        }
        if object_type == ObjectType.AD:
            new["review_feedback"] = data.get("ad_review_feedback") or None
        if data.get("status") and row.pk not in changing:
            new["status"] = data["status"]
        diff = {
            name: {"before": getattr(row, name), "after": value}
            for name, value in new.items()
            if getattr(row, name) != value
        }
        if not diff:
            continue
        for name, value in new.items():
            setattr(row, name, value)
        changed.append(row)
        audited.append(
            audit.audit_new(
                actor=None,
                action=f"{object_type}.synced",
                object_type=object_type,
                object_id=row.pk,
                ad_account_id=job.ad_account_id,
                team_id=job.team_id,
                changes=diff,
            )
        )
        if new["effective_status"] == DISAPPROVED and "effective_status" in diff:
            disapproved.append(row.pk)
    model = MODELS[object_type]
    fields = ["effective_status", "issues", "status", "synced_at", "updated_at"]
    if object_type == ObjectType.AD:
        fields.append("review_feedback")
    for row in changed:
        row.synced_at = row.updated_at = now
    if changed:
        model.objects.bulk_update(changed, fields)
    changed_ids = {row.pk for row in changed}
    unchanged = [row.pk for row in seen if row.pk not in changed_ids]
    if unchanged:
        model.objects.filter(pk__in=unchanged).update(synced_at=now)
    audit.audit_write(audited)
    if disapproved:
        events.ads_disapproved(ad_ids=disapproved)
    logger.info(
        "Job %s: %d %s statuses read, %d changed", job.pk, len(seen), object_type, len(changed)
    )
