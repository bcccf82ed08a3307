"""The whole request: the campaign, then each ad set with what it needs to know of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from mojito.api import shared_serializer
from platforms.meta import rules
from platforms.meta.validation.ad_set import AdSetSerializer
from platforms.meta.validation.base import CampaignFacts, MetaSerializer, collect_list
from platforms.meta.validation.campaign import CampaignSerializer
from platforms.meta.validation.fields import EXPECTED_OBJECT, Errors, StrictCharField, detail


class MetaAdRequestSerializer(MetaSerializer):
    """A whole ad structure for one Meta ad account: a campaign, its ad sets, their ads."""

    # (Everything is validated here but `ad_account_id`, which the generic app resolves.)
    manual_fields = ("campaign", "ad_sets")

    ad_account_id = StrictCharField(
        max_length=64,
        help_text="The ad account: our UUID, or Meta's act_<digits> (bare digits work too).",
    )
    campaign = CampaignSerializer()
    ad_sets = AdSetSerializer(many=True, min_length=1, max_length=rules.MAX_AD_SETS)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": [detail(EXPECTED_OBJECT, "invalid")]})
        return super().to_internal_value(data)

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        # `validate_meta_ad_request` passes the time in `facts` (its tree is shared, so it has no
        # per-request context); a serializer used directly may carry it in its context.
        if isinstance(facts, CampaignFacts):
            now, account_config = facts.now, facts.account_config
        else:
            now = self.context.get("now") or timezone.now()
            account_config = self.context.get("account_config")
        raw_campaign = data.get("campaign", empty)
        campaign: dict[str, Any] = {}
        if raw_campaign is empty:
            errors["campaign"] = [detail("This field is required.", "required")]
        elif raw_campaign is None:
            errors["campaign"] = [detail("This field may not be null.", "null")]
        else:
            campaign, campaign_errors = self.fields["campaign"].collect(raw_campaign, None)
            if campaign_errors:
                errors["campaign"] = campaign_errors
            else:
                values["campaign"] = campaign

        budget_known = "daily_budget" in campaign and "lifetime_budget" in campaign
        campaign_facts = CampaignFacts(
            now=now,
            objective=campaign.get("objective"),
            has_budget=(
                (campaign["daily_budget"] is not None or campaign["lifetime_budget"] is not None)
                if budget_known
                else None
            ),
            # With both campaign budgets set (an error already) the end_time rule waits.
            has_lifetime_budget=(
                campaign.get("lifetime_budget") is not None and campaign.get("daily_budget") is None
            ),
            bid_strategy=campaign.get("bid_strategy"),
            restricted_targeting=bool(
                set(campaign.get("special_ad_categories") or ())
                & rules.TARGETING_RESTRICTED_CATEGORIES
            ),
            account_config=account_config,
        )
        ad_sets, ad_set_errors = collect_list(
            data,
            "ad_sets",
            self.fields["ad_sets"].child,
            campaign_facts,
            max_items=rules.MAX_AD_SETS,
        )
        if ad_set_errors:
            errors["ad_sets"] = ad_set_errors
        else:
            values["ad_sets"] = ad_sets


def validate_meta_ad_request(
    data: Any,
    *,
    now: datetime | None = None,
    account_config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the cleaned payload (defaults filled: status PAUSED everywhere,
    special_ad_categories [] ..., the ad account's defaults from `account_config`).

    Raise `rest_framework.exceptions.ValidationError` whose `.detail` is a nested dict/list
    structure, so that drf-standardized-errors renders attrs like
    "ad_sets.0.targeting.geo_locations" and "ad_sets.1.ads.0.creative.image_url". Every invalid
    field is reported, not only the first.
    """
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": [detail(EXPECTED_OBJECT, "invalid")]})
    if now is None:
        now = timezone.now()
    elif timezone.is_naive(now):
        now = now.replace(tzinfo=UTC)
    # What `MetaAdRequestSerializer(data=data).is_valid()` does, minus the per-instance state:
    # the serializer declares no validators and no validate(), so collecting is all of it. One
    # tree serves every request: building it (DRF deep-copies declared fields per instance)
    # cost more than the validation. collect() keeps its state in locals, and the request's
    # time travels in `facts`, not in a context.
    validator = shared_serializer(MetaAdRequestSerializer)
    values, errors = validator.collect(data, CampaignFacts(now=now, account_config=account_config))
    if errors:
        raise ValidationError(errors)
    return values
