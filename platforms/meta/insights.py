"""Daily delivery figures from Meta's Insights API, read for a whole ad account per level and
stored as `InsightDay` rows. The SYNC job's steps (`platforms.meta.sync`) call these.

What Meta is asked (Marketing API, Insights API; Ad Account Insights reference):
- `GET /act_<id>/insights` with `level` (campaign, adset, ad), `time_increment=1` (one row
  per object and day, the day in the ad account's time zone) and `time_range`
  `{"since", "until"}`, `fields` the figures below, every page read (`limit`, `after`).
- The same as an asynchronous report run (Insights API, "Asynchronous Jobs"): `POST
  /act_<id>/insights` answers `{"report_run_id"}`, `GET /<report_run_id>` its `async_status`
  ("Job Not Started", "Job Started", "Job Running", then "Job Completed", "Job Failed" or
  "Job Skipped") and `async_percent_completion`, and `GET /<report_run_id>/insights` the rows.
- `filtering` on `campaign.id` IN the synced campaigns, and on `ad.effective_status` IN every
  status: "You can query insights for DELETED objects using the ad.effective_status filter"
  (best practices, "Manage your ad object's status"); account-level insights leave deleted
  objects out otherwise, and mojito keeps the past figures of what it archived.
- No `action_attribution_windows`: spend, impressions, reach and clicks do not depend on
  attribution (only actions and conversions do).

Meta sends every figure as a string: money (`spend`, `cpc`, `cpm`) in the account currency
(`account_currency`) as a decimal, stored in its minor unit (`platforms.meta.currencies`);
`cpc`/`cpm` are left out when there were no clicks/impressions.
"""

from __future__ import annotations

import datetime
from typing import Any

from facebook_business.adobjects.ad import Ad as FbAd
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adsinsights import AdsInsights
from facebook_business.api import Cursor

from adaccounts.models import AdAccount
from campaigns.models import Ad, AdSet, Campaign, InsightDay, ObjectType
from platforms.meta.calls import meta_call
from platforms.meta.client import MetaClient
from platforms.meta.currencies import to_minor

# Our level (ObjectType) -> Meta's `level` (AdsInsights.Level).
LEVELS: dict[str, str] = {
    ObjectType.CAMPAIGN: AdsInsights.Level.campaign,
    ObjectType.AD_SET: AdsInsights.Level.adset,
    ObjectType.AD: AdsInsights.Level.ad,
}
# The row's field naming the object of each level.
ID_FIELDS: dict[str, str] = {
    ObjectType.CAMPAIGN: AdsInsights.Field.campaign_id,
    ObjectType.AD_SET: AdsInsights.Field.adset_id,
    ObjectType.AD: AdsInsights.Field.ad_id,
}
FIGURES = ("spend", "impressions", "reach", "clicks", "ctr", "cpc", "cpm")
# Rows per page (Graph's default is 25): a page is one request.
PAGE_SIZE = 500

# `async_status` of a report run (Insights API, "Asynchronous Jobs").
REPORT_NOT_STARTED = "Job Not Started"
REPORT_STARTED = "Job Started"
REPORT_RUNNING = "Job Running"
REPORT_COMPLETED = "Job Completed"
REPORT_FAILED = "Job Failed"
REPORT_SKIPPED = "Job Skipped"
# A run that ends so has no rows: start another.
REPORT_GAVE_UP = frozenset({REPORT_FAILED, REPORT_SKIPPED})

# Every effective status an ad can have (the SDK's enum, copied from Meta's reference): asked
# for explicitly, so that archived and deleted ads' past figures still come.
_AD_STATUSES = sorted(
    v for k, v in vars(FbAd.EffectiveStatus).items() if not k.startswith("_") and v.isupper()
)


def insights_params(
    *,
    level: str,
    since: datetime.date,
    until: datetime.date,
    campaign_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The Graph parameters of an account-level insights read of `level` (ObjectType) from
    `since` to `until` (days in the account's time zone), one row per object and day."""
    fields = [
        AdsInsights.Field.date_start,
        AdsInsights.Field.date_stop,
        ID_FIELDS[level],
        AdsInsights.Field.account_currency,
        *FIGURES,
    ]
    filtering: list[dict[str, Any]] = [
        {"field": "ad.effective_status", "operator": "IN", "value": _AD_STATUSES}
    ]
    if campaign_ids is not None:
        filtering.append(
            {"field": "campaign.id", "operator": "IN", "value": [str(i) for i in campaign_ids]}
        )
    return {
        "level": LEVELS[level],
        "time_increment": 1,
        "time_range": {"since": since.isoformat(), "until": until.isoformat()},
        "fields": ",".join(fields),
        "filtering": filtering,
        "limit": PAGE_SIZE,
    }


def _every_page(client: MetaClient, account_key: str, step: str, cursor: Cursor) -> list[dict]:
    """Every row of an insights edge: one Meta call per page, each checking the account's
    pause (as `platforms.meta.imports` reads edges)."""
    rows: list[dict[str, Any]] = []
    while meta_call(client, account_key, step, cursor.load_next_page):
        rows += [cursor[n].export_all_data() for n in range(len(cursor))]
    return rows


def _cursor(source: Any, params: dict[str, Any], client: MetaClient) -> Cursor:
    params = dict(params)
    fields = str(params.pop("fields", "") or "")
    return Cursor(
        source_object=source,
        target_objects_class=AdsInsights,
        fields=[f for f in fields.split(",") if f],
        params=params,
        # The insights edge's `summary` names fields to total; the SDK's `summary=true`
        # would ask for something else.
        include_summary=False,
        api=client.api,
        endpoint="insights",
    )


def read_insights(client: MetaClient, account_key: str, *, params: dict[str, Any]) -> list[dict]:
    """`GET /act_<id>/insights` with `params` (see `insights_params`), every page."""
    account = FbAdAccount(client.account_id, api=client.api)
    return _every_page(client, account_key, "insights", _cursor(account, params, client))


def start_insights_report(client: MetaClient, account_key: str, *, params: dict[str, Any]) -> str:
    """`POST /act_<id>/insights`: Meta prepares the rows as a report run; its id."""
    account = FbAdAccount(client.account_id, api=client.api)
    # The SDK types `fields` of a report run as list<string> (it sends them JSON-encoded).
    body = {**params, "fields": [f for f in str(params.get("fields", "")).split(",") if f]}
    run = meta_call(
        client, account_key, "insights report", lambda: account.get_insights_async(params=body)
    )
    data = run.export_all_data()
    return str(data.get("report_run_id") or data.get("id"))


def insights_report_status(client: MetaClient, account_key: str, report_id: str) -> tuple[str, int]:
    """`GET /<report_run_id>`: its `async_status` and `async_percent_completion`."""
    run = AdReportRun(report_id, api=client.api)
    fields = [AdReportRun.Field.async_status, AdReportRun.Field.async_percent_completion]
    data = meta_call(
        client, account_key, "insights report status", lambda: run.api_get(fields=fields)
    ).export_all_data()
    return str(data.get("async_status") or ""), int(data.get("async_percent_completion") or 0)


def read_insights_report(client: MetaClient, account_key: str, report_id: str) -> list[dict]:
    """`GET /<report_run_id>/insights`: a completed report run's rows, every page."""
    run = AdReportRun(report_id, api=client.api)
    cursor = _cursor(run, {"limit": PAGE_SIZE}, client)
    return _every_page(client, account_key, "insights report", cursor)


# --- storing ----------------------------------------------------------------------------------


def _objects(account: AdAccount, level: str, platform_ids: set[str]) -> dict[str, tuple[Any, Any]]:
    """platform id -> (object id, campaign id) of the account's objects of `level`: one query."""
    if level == ObjectType.CAMPAIGN:
        rows = Campaign.objects.filter(ad_account=account).values_list("pk", "platform_id", "pk")
    elif level == ObjectType.AD_SET:
        rows = AdSet.objects.filter(campaign__ad_account=account).values_list(
            "pk", "platform_id", "campaign_id"
        )
    else:
        rows = Ad.objects.filter(ad_set__campaign__ad_account=account).values_list(
            "pk", "platform_id", "ad_set__campaign_id"
        )
    found = rows.filter(platform_id__in=platform_ids)
    return {str(platform_id): (pk, campaign) for pk, platform_id, campaign in found}


def _count(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def insights_store(
    *, account: AdAccount, level: str, rows: list[dict], now: datetime.datetime
) -> int:
    """Meta's insights rows of `level` as `InsightDay` rows of the account's objects, upserted
    by object and day so that a day Meta restated is corrected. Rows of objects mojito does
    not manage are skipped. Returns the number of rows stored. Two queries whatever the
    number of rows: the objects by platform id, and the upsert."""
    id_field = ID_FIELDS[level]
    platform_ids = {str(row[id_field]) for row in rows if row.get(id_field)}
    if not platform_ids:
        return 0
    objects = _objects(account, level, platform_ids)
    days: dict[tuple[Any, datetime.date], InsightDay] = {}
    for row in rows:
        found = objects.get(str(row.get(id_field)))
        if found is None or not row.get("date_start"):
            continue
        object_id, campaign_id = found
        currency = str(row.get("account_currency") or "")
        day = datetime.date.fromisoformat(str(row["date_start"]))
        # The last row of an object and day wins: one upsert may not touch a row twice.
        days[(object_id, day)] = InsightDay(
            ad_account=account,
            campaign_id=campaign_id,
            object_type=level,
            object_id=object_id,
            platform_id=str(row[id_field]),
            date=day,
            spend=to_minor(row.get("spend"), currency) or 0,
            impressions=_count(row.get("impressions")),
            reach=_count(row.get("reach")),
            clicks=_count(row.get("clicks")),
            ctr=str(row.get("ctr") or ""),
            cpc=to_minor(row.get("cpc"), currency),
            cpm=to_minor(row.get("cpm"), currency),
            currency=currency,
            synced_at=now,
        )
    if not days:
        return 0
    InsightDay.objects.bulk_create(
        list(days.values()),
        update_conflicts=True,
        unique_fields=["object_id", "date"],
        update_fields=[
            "platform_id",
            *FIGURES,
            "currency",
            "synced_at",
        ],
    )
    return len(days)
