"""Creating ads, with the checks Meta documents for each field.

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Ad: reference/adgroup; reference/ad-account/ads.
"""

from __future__ import annotations

from . import errors
from .creatives import create_creative
from .params import Params
from .polls import refuse_poll
from .review import start_review
from .stories import refuse_instagram_actor_id
from .writes import Created, Ctx, adlabels, create_status, new_object, owned, stored, validate_only

MAX_ADS_PER_ADSET = 50  # Ad Set reference, "Limits" (non-archived ads)


def create_ad(ctx: Ctx, params: Params) -> Created:
    name = params.str("name", required=True)  # Ad Account Ads reference: name [required]
    adset_id = params.str("adset_id", required=True)  # "The ID of the ad set, required on creation"
    adset = owned(ctx, adset_id, "adset")
    if adset is None or adset.deleted:
        raise errors.invalid_parameter(
            "Invalid ad set",
            f"Ad set {adset_id} does not exist in this ad account.",
            blame_fields=["adset_id"],
        )
    # v22.0 changelog: instagram_actor_id is deprecated on POST /act_<id>/ads (the inline
    # creative is checked as a creative).
    refuse_instagram_actor_id(params.values)
    if params.present("bid_amount"):
        # Ad Account Ads reference, bid_amount: "Deprecated. We no longer allow setting the
        # bid_amount value on an ad. Please set bid_amount for the ad set."
        raise errors.invalid_parameter(
            "bid_amount not allowed on ads",
            "We no longer allow setting the bid_amount value on an ad. Please set bid_amount "
            "for the ad set.",
            blame_fields=["bid_amount"],
        )
    creative_spec = params.json("creative", dict, required=True)  # creative [required]
    status = create_status(params)
    live = [
        a
        for a in ctx.state.children(adset.id, "ad")
        if not a.deleted and a.fields.get("status") != "ARCHIVED"
    ]
    if len(live) >= MAX_ADS_PER_ADSET:
        raise errors.invalid_parameter(
            "Too many ads in ad set",
            "An ad set can hold at most 50 non-archived ads.",
            blame_fields=["adset_id"],
        )
    labels = adlabels(ctx, params)
    created_ids: list[str] = []
    if "creative_id" in creative_spec:
        creative = owned(ctx, creative_spec["creative_id"], "adcreative")
        if creative is None or creative.deleted:
            raise errors.invalid_parameter(
                "Invalid creative",
                f"Creative {creative_spec['creative_id']} does not exist in this ad account.",
                blame_fields=["creative", "creative_id"],
            )
        refuse_poll(creative.fields, "creative")
        creative_id = creative.id
    else:
        # "You may supply the ID within an object ... or creative spec" (ads reference).
        inline = creative_spec.get("creative", creative_spec)
        if not isinstance(inline, dict):
            raise errors.not_json("creative", "object")
        if validate_only(params):
            return Created({"success": True}, [])
        made = create_creative(ctx, Params(dict(inline)))
        creative_id = made.body["id"]
        created_ids.extend(made.ids)
    if validate_only(params):
        return Created({"success": True}, [])
    fields = stored(params, skip={"status", "adlabels", "creative"})
    fields.update(
        {
            "account_id": ctx.account.id,
            "adset_id": adset.id,
            "campaign_id": adset.parent_id,
            "name": name,
            "status": status,
            "creative": {"id": creative_id},
        }
    )
    if labels is not None:
        fields["adlabels"] = labels
    obj = ctx.state.add_object(new_object(ctx, "ad", adset.id, fields))
    # Every new ad goes through review; a paused one stays paused after it (best practices,
    # "Ad Changes Triggering Ad Reviews").
    start_review(ctx.state, obj, ctx.now)
    return Created({"id": obj.id}, [*created_ids, obj.id])
