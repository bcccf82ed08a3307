"""factory-boy factories for the generic models."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from adaccounts.models import AdAccount, AdAccountStatus, Team
from campaigns import services
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative, JobStatus
from platforms.base import PlatformType
from tests.payloads import api_example


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")


class TokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def members(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.members.add(*extracted)


class AdAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdAccount

    team = factory.SubFactory(TeamFactory)
    platform_type = PlatformType.META
    platform_account_id = factory.Sequence(lambda n: f"act_{1000000 + n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    credentials = factory.LazyFunction(lambda: {"access_token": "factory-token"})
    status = AdAccountStatus.ACTIVE


class CampaignJobFactory(factory.django.DjangoModelFactory):
    """A stored job without a plan (enough for lifecycle tests; submissions build real plans)."""

    class Meta:
        model = "campaigns.CampaignJob"

    ad_account = factory.SubFactory(AdAccountFactory)
    team = factory.SelfAttribute("ad_account.team")
    platform_type = factory.SelfAttribute("ad_account.platform_type")
    payload = factory.LazyFunction(dict)
    status = "PENDING"


@dataclass
class ApiCaller:
    """A user of one team, with an API client already carrying their token."""

    user: object
    team: object
    token: str
    client: APIClient


def make_caller(
    team_name: str | None = None, *, client_class: type[APIClient] = APIClient
) -> ApiCaller:
    """A new user, the only member of a new team, with a token (and a client that sends it)."""
    user = UserFactory()
    team = TeamFactory(**({"name": team_name} if team_name else {}), members=[user])
    token = TokenFactory(user=user)
    client = client_class()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return ApiCaller(user=user, team=team, token=token.key, client=client)


_platform_ids = itertools.count(120210000000001)


def make_live(campaign: Any) -> Any:
    """What a successful job leaves of a submitted campaign: every row with its Meta ID, the
    job SUCCESS."""
    for model, rows in (
        (Campaign, Campaign.objects.filter(pk=campaign.pk)),
        (AdSet, AdSet.objects.filter(campaign=campaign)),
        (Ad, Ad.objects.filter(ad_set__campaign=campaign)),
        (Creative, Creative.objects.filter(job=campaign.job_id)),
    ):
        for pk in rows.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(platform_id=str(next(_platform_ids)))
    CampaignJob.objects.filter(pk=campaign.job_id).update(
        status=JobStatus.SUCCESS, finished_at=timezone.now()
    )
    campaign.refresh_from_db()
    return campaign


def make_live_campaign(caller: ApiCaller) -> Any:
    """A campaign of API.md's example on a new ad account of `caller`'s team, live on Meta."""
    account = AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-live"})
    submission = services.job_submit(
        user=caller.user, platform_type="META", data=api_example(str(account.pk))
    )
    assert submission is not None
    return make_live(Campaign.objects.get(job=submission.job))
