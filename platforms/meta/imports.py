"""Meta IMPORT jobs: a campaign built elsewhere (Ads Manager) read from Meta with its ad sets,
ads and creatives, and stored as mojito's rows, so that it is managed like any other.

The plan is one `StoreStep` on the job: the read is repeatable (it changes nothing on Meta),
and its result is stored by the engine in one transaction that holds the job, so a run that
stops between the read and the store simply reads again; a stored import is done.

What Meta is asked (Graph API references: ad-campaign-group, ad-campaign-group/adsets,
ad-campaign-group/ads, adgroup, ad-creative): the campaign by id, then its ad sets and its ads
(each ad with its creative by field expansion), every page of each edge. The edges leave out
DELETED and ARCHIVED objects unless asked by `effective_status` ("When unset, defaults to not
return deleted or archived ads"): mojito asks for every status but DELETED, so archived
objects are kept and deleted ones skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facebook_business.adobjects.ad import Ad as FbAd
from facebook_business.adobjects.adset import AdSet as FbAdSet
from facebook_business.adobjects.campaign import Campaign as FbCampaign
from facebook_business.api import Cursor

from campaigns.engine.adapter import Failure, FailureKind
from campaigns.engine.steps import Plan, StoreStep
from campaigns.models import Campaign, CampaignJob
from mojito.db import insert_rows
from platforms.meta.calls import meta_call
from platforms.meta.client import MetaClient
from platforms.meta.errors import ErrorKind, MetaError
from platforms.meta.import_rows import DELETED, tree_rows

# What the adapter calls the import's step.
IMPORT = "import"
# Objects per page of an edge (Graph's default is 25); every page is read whatever this is.
PAGE_SIZE = 100


def _names(text: str) -> list[str]:
    return text.split()


CAMPAIGN_FIELDS = _names(
    """
    id account_id name status effective_status objective special_ad_categories
    special_ad_category_country buying_type bid_strategy daily_budget
    lifetime_budget spend_cap is_adset_budget_sharing_enabled
    """
)
AD_SET_FIELDS = _names(
    """
    id name status effective_status created_time daily_budget lifetime_budget bid_amount
    bid_strategy billing_event optimization_goal start_time end_time targeting
    promoted_object destination_type dsa_beneficiary dsa_payor
    """
)
CREATIVE_FIELDS = _names(
    """
    id name object_story_spec object_story_id object_id instagram_user_id
    source_instagram_media_id call_to_action degrees_of_freedom_spec
    """
)
AD_FIELDS = [
    *_names("id name status effective_status created_time adset_id ad_review_feedback"),
    # Each ad's creative in the same answer (field expansion), not one read per creative.
    f"creative{{{','.join(CREATIVE_FIELDS)}}}",
]


def _is_status(value: Any) -> bool:
    return isinstance(value, str) and value.isupper() and value != DELETED


# Every status the edges know but DELETED (the SDK's enums, from Meta's reference).
_AD_SET_STATUSES = sorted(v for v in vars(FbAdSet.EffectiveStatus).values() if _is_status(v))
_AD_STATUSES = sorted(v for v in vars(FbAd.EffectiveStatus).values() if _is_status(v))


# --- the read ---------------------------------------------------------------------------------


def _all_pages(
    client: MetaClient,
    account_key: str,
    campaign: FbCampaign,
    edge: str,
    target: type[FbAdSet | FbAd],
    fields: list[str],
    statuses: list[str],
) -> list[dict[str, Any]]:
    """Every object of the campaign's `edge`: one Meta call per page, each checking the
    account's pause, so a long import yields to a rate-limit pause between pages.

    The SDK's Cursor itself rather than `get_ads()`: that one loads the first page outside
    any call of ours, and warns about a field expansion (`creative{...}`) it does not know.
    """
    cursor = Cursor(
        source_object=campaign,
        target_objects_class=target,
        fields=fields,
        params={"limit": PAGE_SIZE, "effective_status": statuses},
        api=client.api,
        endpoint=edge,
    )
    step = f"{IMPORT} ({edge})"
    found: list[dict[str, Any]] = []
    while meta_call(client, account_key, step, cursor.load_next_page):
        found += [cursor[n].export_all_data() for n in range(len(cursor))]
    return found


def read_campaign_tree(client: MetaClient, account_key: str, platform_id: str) -> dict[str, Any]:
    """The campaign `platform_id` with its ad sets and ads (each ad with its creative), as
    Meta answers them. Raises `MetaError` (Meta's, or a permanent one when the campaign is
    deleted or of another ad account) and `NotSent` while the account is paused."""
    campaign = FbCampaign(platform_id, api=client.api)
    data = meta_call(
        client, account_key, IMPORT, lambda: campaign.api_get(fields=CAMPAIGN_FIELDS)
    ).export_all_data()
    if data.get("status") == DELETED or data.get("effective_status") == DELETED:
        raise MetaError(
            message=f"Meta reports campaign {platform_id} as deleted: there is nothing to import.",
            kind=ErrorKind.PERMANENT,
            step=IMPORT,
        )
    if f"act_{data.get('account_id')}" != client.account_id:
        raise MetaError(
            message=(
                f"Campaign {platform_id} belongs to another ad account than "
                f"{client.account_id}: import it through that account."
            ),
            kind=ErrorKind.PERMANENT,
            step=IMPORT,
        )
    ad_sets = _all_pages(
        client, account_key, campaign, "adsets", FbAdSet, AD_SET_FIELDS, _AD_SET_STATUSES
    )
    ads = _all_pages(client, account_key, campaign, "ads", FbAd, AD_FIELDS, _AD_STATUSES)
    return {"campaign": data, "ad_sets": ad_sets, "ads": ads}


# --- Meta's values in mojito's ----------------------------------------------------------------


def _store(job: CampaignJob) -> Callable[[Any], None]:
    def store(tree: dict[str, Any]) -> None:
        # Inside the engine's transaction, with the job's row locked: what another run of
        # this job stored is seen here, and never stored twice.
        if Campaign.objects.filter(job=job).exists():
            return
        platform_id = str(tree["campaign"]["id"])
        if (
            Campaign.objects.filter(ad_account_id=job.ad_account_id, platform_id=platform_id)
            .exclude(job=job)
            .exists()
        ):
            raise Failure(
                FailureKind.PERMANENT,
                f"Campaign {platform_id} is already managed here.",
                step=IMPORT,
            )
        rows = tree_rows(job, tree)
        insert_rows(rows)
        # From now on the job names the campaign it brought in, as every later job on it does.
        ((_, (campaign, *_)), *_) = rows
        CampaignJob.objects.filter(pk=job.pk).update(object_id=campaign.pk)
        job.object_id = campaign.pk

    return store


def build_import_plan(job: CampaignJob) -> Plan:
    """One step: read the campaign's tree from Meta and store it; done once the job has its
    campaign. No root step: the job names its campaign from the start."""
    stored = Campaign.objects.filter(job=job).exists()
    return Plan(steps=[StoreStep(IMPORT, IMPORT, job, stored=stored, store=_store(job))])
