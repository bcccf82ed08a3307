"""Webhook events: recorded as delivery rows in the caller's transaction, sent after commit.

Each hook is called inside the transaction that wrote the change it announces; `data` is the
object as the API shows it at that moment (read in that transaction, so it shows the change).
Nothing is stored, and nothing rendered, for a team with no webhook and a request with no
callback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db.models import F

from notifications.models import EventType
from notifications.outbox import event_record, event_targets

logger = logging.getLogger(__name__)

# The serializers and selectors of jobs, ads and accounts are imported where they are used:
# adaccounts.services imports this module, and those modules import it back.

JOB_EVENTS = {
    "SUCCESS": EventType.JOB_SUCCEEDED,
    "FAILED": EventType.JOB_FAILED,
    "PARTIAL_SUCCESS": EventType.JOB_PARTIAL_SUCCESS,
}


def job_finished(*, job_id: Any) -> None:
    """`job.succeeded`, `job.failed` or `job.partial_success` for the job's team webhook and
    its `callback_url`. A SYNC job the schedule started (nobody asked for it) announces
    nothing: one runs for every account every interval."""
    from campaigns.models import CampaignJob, JobKind
    from campaigns.selectors import job_with_tree
    from campaigns.serializers import job_data

    # One statement when there is nothing to announce (most jobs of most teams): it runs in
    # the transaction of every job's end.
    row = (
        CampaignJob.objects.filter(pk=job_id)
        .values(
            "status",
            "kind",
            "created_by_id",
            "team_id",
            "ad_account_id",
            "callback_url",
            "team__webhook_url",
        )
        .first()
    )
    if row is None or row["status"] not in JOB_EVENTS:
        return
    if row["kind"] == JobKind.SYNC and row["created_by_id"] is None:
        return
    targets = event_targets(webhook_url=row["team__webhook_url"], callback_url=row["callback_url"])
    if not targets:
        return
    job = job_with_tree(CampaignJob.objects.select_related("campaign")).get(pk=job_id)
    event_record(
        type=JOB_EVENTS[row["status"]],
        team_id=row["team_id"],
        object_id=job_id,
        data=dict(job_data(job)),
        targets=targets,
        job_id=job_id,
        ad_account_id=row["ad_account_id"],
    )


def ads_disapproved(*, ad_ids: Iterable[Any]) -> None:
    """`ad.disapproved` for each ad (a sync saw it become DISAPPROVED), to its team's webhook
    and to the `callback_url` of the job that created the ad, if it had one."""
    from campaigns.live_selectors import detail_relations
    from campaigns.live_serializers import LiveAdDetailSerializer, live_data
    from campaigns.models import Ad

    ad_ids = list(ad_ids)
    if not ad_ids:
        return
    ads = (
        Ad.objects.filter(pk__in=ad_ids)
        .select_related("ad_set__campaign", "creative", *detail_relations(Ad))
        .annotate(
            platform_type=F("ad_set__campaign__ad_account__platform_type"),
            event_team_id=F("ad_set__campaign__ad_account__team_id"),
            event_webhook_url=F("ad_set__campaign__ad_account__team__webhook_url"),
            event_account_id=F("ad_set__campaign__ad_account_id"),
            job_callback_url=F("job__callback_url"),
        )
        .order_by("pk")
    )
    for ad in ads:
        targets = event_targets(webhook_url=ad.event_webhook_url, callback_url=ad.job_callback_url)
        if not targets:
            continue
        event_record(
            type=EventType.AD_DISAPPROVED,
            team_id=ad.event_team_id,
            object_id=ad.pk,
            data=live_data(LiveAdDetailSerializer, ad),
            targets=targets,
            job_id=ad.job_id,
            ad_account_id=ad.event_account_id,
        )


def account_requires_reauth(*, account_id: Any) -> None:
    """`ad_account.requires_reauth` for the account's team webhook (`data`: the account as
    the API shows it, `has_credentials` and never the credentials)."""
    from adaccounts.models import AdAccount
    from adaccounts.serializers import AdAccountSerializer

    # The team without its secret: nothing here needs it decrypted.
    account = (
        AdAccount.objects.select_related("team")
        .defer("team__webhook_secret")
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        return
    targets = event_targets(webhook_url=account.team.webhook_url)
    if not targets:
        return
    event_record(
        type=EventType.AD_ACCOUNT_REQUIRES_REAUTH,
        team_id=account.team_id,
        object_id=account.pk,
        data=dict(AdAccountSerializer(account).data),
        targets=targets,
        ad_account_id=account.pk,
    )
