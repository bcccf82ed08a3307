"""Reads of live objects (campaigns, ad sets, ads), scoped to the caller's teams, with a fixed
number of queries whatever the size of a page or a tree.

Only objects of the caller's teams' live (not soft-deleted) ad accounts exist for them;
superusers reach every live account. The ad account row itself is never loaded here: it holds
the encrypted credentials, which would be decrypted for nothing.
"""

from __future__ import annotations

import functools

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Model, Prefetch, QuerySet

from adaccounts.selectors import ad_account_list_for_user
from campaigns.models import Ad, AdSet, Campaign
from platforms.base import PlatformType

User = AbstractBaseUser | AnonymousUser


@functools.cache
def detail_relations(model: type[Model]) -> tuple[str, ...]:
    """The accessors of `model`'s platform detail rows: the reverse one-to-one relations named
    after a platform (`campaign.meta`). Found by that convention so that this generic app never
    names a platform, and a new platform's detail table is picked up as it is."""
    slugs = {platform.lower() for platform in PlatformType.values}
    return tuple(
        relation.get_accessor_name() or ""
        for relation in model._meta.related_objects
        if relation.one_to_one and relation.get_accessor_name() in slugs
    )


def platform_details(obj: Model) -> Model | None:
    """The object's platform detail row, or None (a platform without one, or a row missing).
    Free when the selectors below loaded the object: they join every detail relation."""
    for accessor in detail_relations(type(obj)):
        try:
            return getattr(obj, accessor)
        except ObjectDoesNotExist:
            continue
    return None


def campaign_list_for_user(*, user: User) -> QuerySet[Campaign]:
    """The caller's campaigns, newest first, each with its detail row and platform type."""
    return (
        Campaign.objects.filter(ad_account__in=ad_account_list_for_user(user=user))
        .select_related(*detail_relations(Campaign))
        .annotate(platform_type=F("ad_account__platform_type"))
        .order_by("-created_at", "id")
    )


def _ads() -> QuerySet[Ad]:
    return Ad.objects.select_related("creative", *detail_relations(Ad)).order_by("position")


def campaign_with_tree(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Prefetch the ad sets (with their details) and their ads (with their creatives): three
    queries in all, whatever the tree's size."""
    ad_sets = (
        AdSet.objects.select_related(*detail_relations(AdSet))
        .order_by("position")
        .prefetch_related(Prefetch("ads", queryset=_ads()))
    )
    return campaigns.prefetch_related(Prefetch("ad_sets", queryset=ad_sets))


def ad_set_list_for_user(*, user: User) -> QuerySet[AdSet]:
    """The caller's ad sets, each with its campaign and detail row."""
    return (
        AdSet.objects.filter(campaign__ad_account__in=ad_account_list_for_user(user=user))
        .select_related("campaign", *detail_relations(AdSet))
        .annotate(platform_type=F("campaign__ad_account__platform_type"))
        .order_by("campaign", "position")
    )


def ad_set_with_ads(ad_sets: QuerySet[AdSet]) -> QuerySet[AdSet]:
    """Prefetch the ad sets' ads with their creatives (one query)."""
    return ad_sets.prefetch_related(Prefetch("ads", queryset=_ads()))


def ad_list_for_user(*, user: User) -> QuerySet[Ad]:
    """The caller's ads, each with its ad set, campaign and creative."""
    return (
        Ad.objects.filter(ad_set__campaign__ad_account__in=ad_account_list_for_user(user=user))
        .select_related("ad_set__campaign", "creative", *detail_relations(Ad))
        .annotate(platform_type=F("ad_set__campaign__ad_account__platform_type"))
        .order_by("ad_set", "position")
    )
