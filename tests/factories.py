"""factory-boy factories for the generic models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from adaccounts.models import AdAccount, AdAccountStatus, Team
from platforms.base import PlatformType


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
