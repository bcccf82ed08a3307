"""Reads scoped to what a user may see: other teams' rows do not exist for them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from adaccounts.models import AdAccount, Team

User = AbstractBaseUser | AnonymousUser


def team_list_member_of(*, user: User) -> QuerySet[Team]:
    """The teams the user belongs to (for a superuser too: "my teams", not "all I can reach")."""
    return Team.objects.filter(members=user) if user.is_authenticated else Team.objects.none()


def team_list_for_user(*, user: User) -> QuerySet[Team]:
    """The teams the user may act in: their own, or every team for a superuser."""
    if getattr(user, "is_superuser", False):
        return Team.objects.all()
    return Team.objects.filter(members=user)


def ad_account_list_for_user(*, user: User) -> QuerySet[AdAccount]:
    """Live (not soft-deleted) accounts of the user's teams; every account for superusers."""
    accounts = AdAccount.objects.live()
    if not getattr(user, "is_superuser", False):
        accounts = accounts.filter(team__members=user)
    return accounts
