"""Reads of jobs and their plan, scoped to the caller's teams, with no N+1 queries."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from adaccounts.selectors import team_list_for_user
from campaigns.models import Ad, AdSet, CampaignJob


def job_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[CampaignJob]:
    jobs = CampaignJob.objects.select_related("campaign")
    if not getattr(user, "is_superuser", False):
        jobs = jobs.filter(team__in=team_list_for_user(user=user))
    return jobs


def job_with_tree(jobs: QuerySet[CampaignJob]) -> QuerySet[CampaignJob]:
    """Prefetch the whole campaign tree: a fixed number of queries whatever its size."""
    return jobs.prefetch_related(
        Prefetch(
            "campaign__ad_sets",
            queryset=AdSet.objects.order_by("position").prefetch_related(
                Prefetch("ads", queryset=Ad.objects.select_related("creative").order_by("position"))
            ),
        )
    )
