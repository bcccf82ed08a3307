"""Writes for teams, API users and ad accounts. Views, admin and commands only call these."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.authtoken.models import Token

from adaccounts.models import AdAccount, AdAccountStatus, Team
from adaccounts.signals import ad_account_deleted, ad_account_reactivated
from audit import services as audit
from audit.models import AuditEvent
from notifications import events
from platforms.base import VerifyResult
from platforms.registry import get_verifier

logger = logging.getLogger(__name__)

# The rule is one live account per platform ID in all of mojito (API.md): one Meta account,
# one token, one rate-limit budget, one set of rows for sync to keep in step. The refusal
# is the same whichever team holds the account, the caller's or another, and names neither,
# so it tells nothing of another team beyond the fact that the ID is taken.
DUPLICATE_ACCOUNT_MESSAGE = (
    "This platform account is already registered in mojito, and an account can be registered "
    "only once. If your team should manage it, ask a mojito administrator for access."
)


def api_user_create(*, username: str, team_name: str) -> tuple[AbstractUser, Team, Token]:
    """Create (or reuse) a user and a team, put the user in the team, return its API token."""
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username)
        if created:
            # API users authenticate with their token; a password is set in the admin if needed.
            user.set_unusable_password()
            user.save(update_fields=["password"])
        team, _ = Team.objects.get_or_create(name=team_name)
        team.members.add(user)
        token, _ = Token.objects.get_or_create(user=user)
    logger.info("API user %s is in team %s", user.username, team.name)
    return user, team, token


def _save_checking_duplicates(account: AdAccount, **save_kwargs: Any) -> AdAccount:
    # The partial unique constraint decides, so two concurrent creates cannot both win; the
    # savepoint keeps an outer transaction usable after the IntegrityError.
    try:
        with transaction.atomic():
            account.save(**save_kwargs)
    except IntegrityError as exc:
        if "uniq_live_ad_account_per_platform" in str(exc):
            raise ValidationError(
                {"platform_account_id": ValidationError(DUPLICATE_ACCOUNT_MESSAGE, code="unique")}
            ) from None
        raise
    return account


# What an account's audit events show of it: model field → the attribute holding its stored
# value, which is also the API's name of it (a foreign key's id).
_AUDITED = {
    "platform_type": "platform_type",
    "platform_account_id": "platform_account_id",
    "name": "name",
    "team": "team_id",
    "owner_user": "owner_user_id",
    "status": "status",
    "additional_config": "additional_config",
    "credentials": "credentials",
}


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    """Stored values (by attribute) as an audit event shows them: ids as text, credentials
    only as whether there are any, never a value or any part of one."""
    shown = dict(values)
    for name in ("team_id", "owner_user_id"):
        if shown.get(name) is not None:
            shown[name] = str(shown[name])
    if "credentials" in shown:
        shown["credentials"] = audit.CREDENTIALS_SET if shown["credentials"] else None
    return shown


def _account_event(account: AdAccount, action: str, actor: Any, changes: Any) -> AuditEvent:
    return audit.audit_new(
        actor=actor,
        action=action,
        object_type="ad_account",
        object_id=account.pk,
        ad_account_id=account.pk,
        team_id=account.team_id,
        changes=changes,
    )


def ad_account_create(
    *,
    team: Team,
    platform_type: str,
    platform_account_id: str,
    name: str,
    credentials: dict[str, str],
    status: str = AdAccountStatus.ACTIVE,
    owner_user: AbstractUser | None = None,
    additional_config: dict[str, Any] | None = None,
    actor: Any = None,
) -> AdAccount:
    """Create an account, audited as `ad_account.created` by `actor` (a user; None for the
    system). Raises `ValidationError` on a live duplicate."""
    account = AdAccount(
        team=team,
        platform_type=platform_type,
        platform_account_id=platform_account_id,
        name=name,
        credentials=credentials,
        status=status,
        owner_user=owner_user,
        additional_config=additional_config or {},
    )
    after = _audited({name: getattr(account, name) for name in _AUDITED.values()})
    with transaction.atomic():
        _save_checking_duplicates(account)
        changes = audit.audit_diff({}, after)
        audit.audit_write([_account_event(account, "ad_account.created", actor, changes)])
    logger.info("Created ad account %s (%s %s)", account.id, platform_type, platform_account_id)
    return account


_UPDATABLE = {
    "team",
    "platform_account_id",
    "name",
    "credentials",
    "status",
    "owner_user",
    "additional_config",
}


def ad_account_update(*, account: AdAccount, actor: Any = None, **changes: Any) -> AdAccount:
    """Apply `changes` and write only those fields, so that every other field keeps what the
    database has (`account` may be stale: a worker may have set REQUIRES_REAUTH meanwhile).

    Credentials are replaced only when given (omitting them keeps them), and then
    credentials_version goes up by one. The fields whose value changed are audited as
    `ad_account.updated` by `actor` (a user; None for the system), credentials only as
    changed. Announces a reactivation when this update is what makes the account ACTIVE.
    Returns `account`, reloaded as stored.
    """
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise TypeError(f"ad_account_update() got unexpected fields: {sorted(unknown)}")
    was: str | None = None
    with transaction.atomic():
        # What the row holds, not what the instance was loaded with (the audit's `before`,
        # and the status a reactivation is told from); the lock keeps a worker from changing
        # it between this read and the write below.
        audited_names = [_AUDITED[field] for field in changes]
        stored = AdAccount.objects.select_for_update().values(*audited_names).get(pk=account.pk)
        before = _audited(stored)
        if "status" in changes:
            was = stored["status"]
        for field, value in changes.items():
            setattr(account, field, value)
        update_fields = [*changes, "updated_at"]
        if "credentials" in changes:
            # Counted in the UPDATE itself, so two concurrent changes make two bumps.
            account.credentials_version = F("credentials_version") + 1
            update_fields.append("credentials_version")
        _save_checking_duplicates(account, update_fields=update_fields)
        # Our UPDATE holds the row lock until commit: this reads what it wrote, and the
        # fields it did not write as they are now.
        account.refresh_from_db()
        after = _audited({name: getattr(account, name) for name in audited_names})
        audited = audit.audit_diff(before, after)
        if "credentials" in changes:
            # Replaced, even by the same values: never compared, never shown.
            audited["credentials"] = {
                "before": before["credentials"],
                "after": audit.CREDENTIALS_CHANGED if after["credentials"] else None,
            }
        if audited:
            audit.audit_write([_account_event(account, "ad_account.updated", actor, audited)])
    logger.info("Updated ad account %s (%s)", account.id, ", ".join(sorted(changes)) or "nothing")
    if was is not None:
        _announce_if_reactivated(account, was)
    return account


def _announce_if_reactivated(account: AdAccount, previous_status: str) -> None:
    if account.status == AdAccountStatus.ACTIVE and previous_status != AdAccountStatus.ACTIVE:
        transaction.on_commit(
            lambda: ad_account_reactivated.send(sender=AdAccount, account_id=account.pk)
        )


def _status_changed(account_id: Any, *, previous: str, status: str, actor: Any) -> None:
    """In the transaction that changed the account's status (`actor`: the user who asked,
    None for a worker): audited, and a REQUIRES_REAUTH announced to the team's webhook."""
    audit.audit_account_status(account_id=account_id, previous=previous, status=status, actor=actor)
    if status == AdAccountStatus.REQUIRES_REAUTH:
        events.account_requires_reauth(account_id=account_id)


def ad_account_require_reauth(*, account_id: UUID | str, credentials_version: int) -> bool:
    """Mark the account REQUIRES_REAUTH after a dead-token answer, if it still holds the
    credentials of the run that got it (`credentials_version`) and is ACTIVE and not deleted.

    One conditional UPDATE: a slow run with the old token never undoes credentials that were
    replaced (and verified) meanwhile. Returns whether the account changed.
    """
    with transaction.atomic():
        changed = AdAccount.objects.filter(
            pk=account_id,
            credentials_version=credentials_version,
            status=AdAccountStatus.ACTIVE,
            deleted_at__isnull=True,
        ).update(status=AdAccountStatus.REQUIRES_REAUTH, updated_at=timezone.now())
        if changed:
            _status_changed(
                account_id,
                previous=AdAccountStatus.ACTIVE,
                status=AdAccountStatus.REQUIRES_REAUTH,
                actor=None,
            )
    if changed:
        logger.warning("Account %s requires re-authentication", account_id)
    else:
        logger.info(
            "Account %s: dead token of credentials version %s, but the credentials changed "
            "since the run started (or the account is no longer ACTIVE); status left as is",
            account_id,
            credentials_version,
        )
    return bool(changed)


def ad_account_delete(*, account: AdAccount, actor: Any = None) -> None:
    """Soft delete: the row stays for the jobs that reference it, but leaves the API.
    Audited as `ad_account.deleted` by `actor` (a user; None for the system).

    Sends `ad_account_deleted` after commit, once: deleting a deleted account does nothing.
    """
    with transaction.atomic():
        if not account.soft_delete():
            logger.info("Ad account %s was already deleted", account.id)
            return
        changes = {"deleted_at": {"before": None, "after": account.deleted_at}}
        audit.audit_write([_account_event(account, "ad_account.deleted", actor, changes)])
    logger.info("Soft-deleted ad account %s", account.id)
    account_id = account.pk
    transaction.on_commit(lambda: ad_account_deleted.send(sender=AdAccount, account_id=account_id))


def ad_account_credentials_rotate() -> int:
    """Re-encrypt every account's credentials under the newest key of `FERNET_KEYS`.

    Reading decrypts with any listed key; writing always encrypts with the first. Deleted
    accounts are rotated too, so an old key can be dropped from the list afterwards.
    Returns the number of rows rewritten.
    """
    # Primary keys only: credentials read at the start would be stale by the time their row
    # is written back. Rows created meanwhile are written under the newest key anyway.
    count = 0
    for pk in list(AdAccount.objects.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            # Lock the row while it is re-read and rewritten: a concurrent credentials change
            # either committed before (and is what gets re-encrypted) or waits for this one.
            account = (
                AdAccount.objects.select_for_update()
                .only("id", "team_id", "credentials")
                .filter(pk=pk)
                .first()
            )
            if account is None:
                continue  # deleted from the table meanwhile
            # update() bypasses save() so updated_at keeps meaning "last changed by a person",
            # and credentials_version stays: these are the same credentials.
            AdAccount.objects.filter(pk=pk).update(credentials=account.credentials)
            changes = {
                "credentials": {
                    "before": audit.CREDENTIALS_SET if account.credentials else None,
                    "after": audit.CREDENTIALS_REENCRYPTED if account.credentials else None,
                }
            }
            audit.audit_write(
                [_account_event(account, "ad_account.credentials_reencrypted", None, changes)]
            )
        count += 1
    logger.info("Re-encrypted credentials of %d ad accounts under the newest key", count)
    return count


def ad_account_verify(*, account: AdAccount, actor: Any = None) -> VerifyResult:
    """Ask the platform whether the account's credentials work, and set `status` from it.

    Invalid or expired credentials → REQUIRES_REAUTH. A platform-side block → SUSPENDED.
    Working credentials bring a REQUIRES_REAUTH or SUSPENDED account back to ACTIVE, and its
    waiting jobs run again; an account ops set INACTIVE stays INACTIVE. A transient failure
    changes nothing, and so does an answer about credentials replaced while it was out: it
    says nothing about the new ones.
    """
    version = account.credentials_version
    result = get_verifier(account.platform_type)(
        platform_account_id=account.platform_account_id, credentials=account.credentials
    )
    new_status = account.status
    if result.credentials_invalid:
        new_status = AdAccountStatus.REQUIRES_REAUTH
    elif result.verified and not result.usable:
        new_status = AdAccountStatus.SUSPENDED
    elif result.verified and account.status in (
        AdAccountStatus.REQUIRES_REAUTH,
        AdAccountStatus.SUSPENDED,
    ):
        new_status = AdAccountStatus.ACTIVE
    if new_status != account.status:
        with transaction.atomic():
            changed = AdAccount.objects.filter(
                pk=account.pk, credentials_version=version, status=account.status
            ).update(status=new_status, updated_at=timezone.now())
            if changed:
                _status_changed(account.pk, previous=account.status, status=new_status, actor=actor)
        if not changed:
            logger.info(
                "Ad account %s changed while it was verified; status left as is", account.id
            )
            return result
        was, account.status = account.status, new_status
        logger.info("Ad account %s verified: status now %s", account.id, new_status)
        _announce_if_reactivated(account, was)
    return result
