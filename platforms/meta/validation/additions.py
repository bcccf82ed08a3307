"""Additions to live objects (`POST .../campaigns/{id}/ad_sets`, `POST .../ad_sets/{id}/ads`),
checked before any Meta call: the submission's own serializers, with the stored campaign (and
ad set) as their context.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rest_framework.exceptions import ValidationError

from mojito.api import shared_serializer
from platforms.meta import rules
from platforms.meta.rules import changes as change_rules
from platforms.meta.validation.ad_set import AdSetSerializer
from platforms.meta.validation.base import campaign_facts, collect_list
from platforms.meta.validation.creative import AdSerializer
from platforms.meta.validation.fields import EXPECTED_OBJECT, Errors, detail

_LABEL = {"campaign": "campaign", "ad_set": "ad set"}


def validate_meta_additions(
    *,
    parent_type: str,
    parent: Any,
    data: Any,
    now: datetime,
    account_config: dict | None,
) -> list[dict[str, Any]]:
    """Validate {"ad_sets": [...]} added to a live campaign (parent_type "campaign") or
    {"ads": [...]} added to a live ad set (parent_type "ad_set"); return the validated list,
    exactly as the submission validator returns request["ad_sets"] / an ad set's "ads".

    The stored campaign is the context the submission's campaign would be (objective, budget,
    bid strategy, special ad categories), and for ads the ad set's promoted Page.
    """
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": [detail(EXPECTED_OBJECT, "invalid")]})
    if parent_type == "campaign":
        name, campaign, child = "ad_sets", parent, shared_serializer(AdSetSerializer)
        limit, siblings = rules.MAX_AD_SETS, parent.ad_sets
    else:
        name, campaign = "ads", parent.campaign
        child = shared_serializer(AdSerializer)
        limit, siblings = rules.MAX_ADS_PER_AD_SET, parent.ads
    errors: Errors = {}
    for key in data:
        if key != name:
            errors[str(key)] = [detail(f"Unknown field; give {name}.", "unknown_field")]
    facts = campaign_facts(campaign, now=now, account_config=account_config)
    items, item_errors = collect_list(data, name, child, facts, max_items=limit)
    if item_errors:
        errors[name] = item_errors
    elif items is not None:
        # Archived children no longer run, and mojito never brings them back: they leave room.
        existing = siblings.exclude(status=change_rules.ARCHIVED_STATUS).count()
        if existing + len(items) > limit:
            errors[name] = [
                detail(
                    f"The {_LABEL[parent_type]} has {existing} {name.replace('_', ' ')} and "
                    f"holds at most {limit}: add at most {max(limit - existing, 0)}.",
                    "max_length",
                )
            ]
        elif parent_type == "ad_set":
            # "If you use page_id, the creative must promote that page_id" (ad-promoted-object).
            AdSetSerializer._check_promoted_page(
                {"promoted_object": parent.meta.promoted_object}, errors, items
            )
    if errors:
        raise ValidationError(errors)
    assert items is not None
    return items
