"""Managing live objects: changes, archiving, additions and imports, each accepted as a job.

What a request asks is validated by the object's platform, then stored with its job in one
transaction, and the job id reaches the broker only after commit (as a submission). The
object's own rows are not touched here: they take the new values when the platform accepted
them (`campaigns.engine.steps.ChangeStep`), so a rejected change leaves them as they were.
Changes to one object run in the order they were accepted (the claim's rule).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from rest_framework import serializers

from adaccounts.models import AdAccount, AdAccountStatus
from audit.models import AuditEvent
from audit.services import audit_job_created, audit_write
from campaigns.models import (
    FINAL_STATUSES,
    UNFINISHED_STATUSES,
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    JobKind,
    ObjectChange,
    ObjectType,
)
from campaigns.services import job_publish, resolve_ad_account
from mojito.db import insert_rows
from notifications.targets import callback_url_clean, callback_url_split
from platforms.base import PlatformType
from platforms.registry import (
    get_additions_planner,
    get_additions_validator,
    get_change_validator,
    get_creative_planner,
    runs_jobs,
)

logger = logging.getLogger(__name__)

_PLATFORM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
BUDGET_FIELDS = ("daily_budget", "lifetime_budget")


class ObjectNotReady(Exception):
    """The object cannot take this request yet, or any more (answered 409)."""


class AlreadyImported(Exception):
    """The campaign is here already, or an import of it is under way (answered 409)."""


def _campaign_of(object_type: str, obj: Any) -> Campaign:
    if object_type == ObjectType.CAMPAIGN:
        return obj
    if object_type == ObjectType.AD_SET:
        return obj.campaign
    return obj.ad_set.campaign


def require_live(object_type: str, obj: Any) -> Campaign:
    """The object's campaign, with its ad account (loaded without the credentials, which a
    request never needs): 409 unless the object exists on the platform, the job that made it
    is done, and the account can run jobs now (a change for an account whose token died
    would wait unseen until someone re-authenticates it)."""
    campaign = _campaign_of(object_type, obj)
    account = AdAccount.objects.defer("credentials").get(pk=campaign.ad_account_id)
    # The platform's validators read the account (its defaults) through the campaign.
    campaign.ad_account = account
    if account.deleted_at is not None:
        raise ObjectNotReady("The ad account was deleted: it takes no new jobs.")
    if account.status != AdAccountStatus.ACTIVE:
        raise ObjectNotReady(
            f"The ad account is {account.status}: it takes no new jobs until it is ACTIVE "
            "again (new credentials, then verify)."
        )
    creator = CampaignJob.objects.filter(pk=obj.job_id).values_list("status", flat=True).first()
    if creator in UNFINISHED_STATUSES:
        raise ObjectNotReady(
            f"The job that creates this {ObjectType(object_type).label.lower()} has not "
            "finished; change it once it has."
        )
    if not obj.platform_id:
        raise ObjectNotReady(
            f"This {ObjectType(object_type).label.lower()} was never created on the platform; "
            "retry the job that creates it first."
        )
    return campaign


def _new_job(
    *,
    user: AbstractBaseUser,
    kind: str,
    object_type: str,
    obj: Any,
    campaign: Campaign,
    payload: Any,
) -> CampaignJob:
    account: AdAccount = campaign.ad_account
    return CampaignJob(
        team_id=account.team_id,
        ad_account=account,
        platform_type=account.platform_type,
        created_by=user if user.is_authenticated else None,
        kind=kind,
        object_type=object_type,
        object_id=obj.pk,
        payload=payload,
        platform_campaign_id=campaign.platform_id,
        published_at=timezone.now(),
    )


def _lock_campaign(campaign_id: Any) -> None:
    """Jobs on one campaign's tree are accepted one at a time: each takes its `created_at`
    (the order the claim keeps) only after the one before committed."""
    Campaign.objects.select_for_update(no_key=True).filter(pk=campaign_id).exists()


def _store(
    job: CampaignJob, rows: list[tuple[type[Model], list[Any]]], *, campaign: Campaign
) -> CampaignJob:
    with transaction.atomic():
        _lock_campaign(campaign.pk)
        # The job, its rows and its audit event: one statement on PostgreSQL.
        insert_rows([(CampaignJob, [job]), *rows, (AuditEvent, [audit_job_created(job)])])
        transaction.on_commit(lambda: job_publish(job_id=job.id))
    logger.info("%s job %s accepted for %s %s", job.kind, job.id, job.object_type, job.object_id)
    return job


def _budget_changes(obj: Any, now: Any) -> list[Any]:
    """When the object's budget changed in the last hour, or a change of it was accepted
    that has not run yet: Meta limits how often an ad set's budget may change."""
    since = now - timedelta(hours=1)
    budget_touched = Q(values__has_key=BUDGET_FIELDS[0]) | Q(values__has_key=BUDGET_FIELDS[1])
    rows = ObjectChange.objects.filter(object_id=obj.pk).filter(budget_touched)
    applied = rows.filter(applied_at__gte=since).values_list("applied_at", flat=True)
    pending = rows.filter(applied_at__isnull=True, job__status__in=UNFINISHED_STATUSES).values_list(
        "created_at", flat=True
    )
    return sorted([*applied, *pending])


def _cascade_targets(campaign: Campaign) -> list[tuple[str, Any]]:
    """The campaign's live ad sets and ads, for a status change of the whole tree."""
    found: list[tuple[str, Any]] = []
    ad_sets = (
        campaign.ad_sets.exclude(platform_id=None)
        .exclude(status__in=FINAL_STATUSES)
        .order_by("position")
    )
    found += [(ObjectType.AD_SET, ad_set) for ad_set in ad_sets]
    ads = (
        Ad.objects.filter(ad_set__campaign=campaign)
        .exclude(platform_id=None)
        .exclude(status__in=FINAL_STATUSES)
        .exclude(ad_set__status__in=FINAL_STATUSES)
        .order_by("ad_set__position", "position")
    )
    found += [(ObjectType.AD, ad) for ad in ads]
    return found


def live_change_submit(
    *, user: AbstractBaseUser, object_type: str, obj: Any, data: Any, cascade: bool = False
) -> CampaignJob:
    """Accept a change of a live object as an UPDATE job. Raises `ValidationError` (every bad
    field at once) or `ObjectNotReady`."""
    campaign = require_live(object_type, obj)
    platform_type = campaign.ad_account.platform_type
    now = timezone.now()
    data, callback = callback_url_split(data)
    with callback.errors_joined():
        values = get_change_validator(platform_type)(
            object_type=object_type,
            obj=obj,
            data=data,
            cascade=cascade,
            now=now,
            budget_changes=_budget_changes(obj, now),
        )
    payload = {"changes": data, "cascade": cascade} if isinstance(data, dict) else data
    job = _new_job(
        user=user,
        kind=JobKind.UPDATE,
        object_type=object_type,
        obj=obj,
        campaign=campaign,
        payload=payload,
    )
    job.callback_url = callback.url
    rows: list[tuple[type[Model], list[Any]]] = []
    creative = values.pop("creative", None)
    if creative is not None:
        new_creative, creative_rows = get_creative_planner(platform_type)(
            job=job, creative=creative, name=values.get("name") or obj.name
        )
        rows += creative_rows
        values["creative_id"] = str(new_creative.pk)
    changes = [
        ObjectChange(job=job, position=0, object_type=object_type, object_id=obj.pk, values=values)
    ]
    if cascade:
        changes += [
            ObjectChange(
                job=job, position=n, object_type=child_type, object_id=child.pk, values=values
            )
            for n, (child_type, child) in enumerate(_cascade_targets(obj), start=1)
        ]
    rows.append((ObjectChange, changes))
    return _store(job, rows, campaign=campaign)


def live_archive_submit(
    *, user: AbstractBaseUser, object_type: str, obj: Any, callback_url: Any = None
) -> CampaignJob:
    """Accept an ARCHIVE job: the object's status becomes ARCHIVED on the platform (never the
    platform's irreversible delete). Raises `ObjectNotReady` or `ValidationError` (on
    `callback_url`)."""
    campaign = require_live(object_type, obj)
    callback_url = callback_url_clean(callback_url)
    if obj.status == "ARCHIVED":
        raise ObjectNotReady(f"This {ObjectType(object_type).label.lower()} is archived already.")
    job = _new_job(
        user=user,
        kind=JobKind.ARCHIVE,
        object_type=object_type,
        obj=obj,
        campaign=campaign,
        payload={},
    )
    job.callback_url = callback_url
    change = ObjectChange(
        job=job,
        position=0,
        object_type=object_type,
        object_id=obj.pk,
        values={"status": "ARCHIVED"},
    )
    return _store(job, [(ObjectChange, [change])], campaign=campaign)


def live_add_submit(
    *, user: AbstractBaseUser, parent_type: str, parent: Campaign | AdSet, data: Any
) -> CampaignJob:
    """Accept ad sets added to a live campaign, or ads to a live ad set, as a CREATE job with
    the same batching, checkpoints and adoption as a submission. Raises `ValidationError` or
    `ObjectNotReady`."""
    campaign = require_live(parent_type, parent)
    if parent.status in FINAL_STATUSES:
        raise ObjectNotReady("Nothing can be added to an archived object.")
    account = campaign.ad_account
    data, callback = callback_url_split(data)
    with callback.errors_joined():
        items = get_additions_validator(account.platform_type)(
            parent_type=parent_type,
            parent=parent,
            data=data,
            now=timezone.now(),
            account_config=account.additional_config,
        )
    job = _new_job(
        user=user,
        kind=JobKind.CREATE,
        object_type=parent_type,
        obj=parent,
        campaign=campaign,
        payload=data,
    )
    job.callback_url = callback.url
    with transaction.atomic():
        # Additions to one tree queue on its campaign, so two cannot take the same positions.
        _lock_campaign(campaign.pk)
        siblings = parent.ad_sets if parent_type == ObjectType.CAMPAIGN else parent.ads
        last = siblings.order_by("-position").values_list("position", flat=True).first()
        rows = get_additions_planner(account.platform_type)(
            job=job,
            parent_type=parent_type,
            parent=parent,
            items=items,
            first_position=0 if last is None else last + 1,
        )
        return _store(job, rows, campaign=campaign)


def _import_request(user: AbstractBaseUser, data: Any) -> tuple[AdAccount, str, str]:
    errors: dict[str, Any] = {}
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    platform_type = data.get("platform_type") or PlatformType.META
    if platform_type not in PlatformType.values:
        errors["platform_type"] = [f"Must be one of {', '.join(PlatformType.values)}."]
    elif not runs_jobs(str(platform_type)):
        errors["platform_type"] = [f"mojito cannot import {platform_type} campaigns yet."]
    account = None
    try:
        # An account is looked up on a known platform only: its spec reads the ID.
        if "platform_type" not in errors:
            account = resolve_ad_account(
                user=user, platform_type=str(platform_type), value=data.get("ad_account_id")
            )
    except serializers.ValidationError as exc:
        errors["ad_account_id"] = exc.detail
    platform_id = data.get("platform_id")
    if isinstance(platform_id, int) and not isinstance(platform_id, bool):
        platform_id = str(platform_id)
    if not isinstance(platform_id, str) or not _PLATFORM_ID.fullmatch(platform_id):
        errors["platform_id"] = ["The platform's campaign ID is required (e.g. Meta's digits)."]
    if errors:
        raise serializers.ValidationError(errors)
    assert account is not None
    return account, str(platform_type), str(platform_id)


def live_import_submit(*, user: AbstractBaseUser, data: Any) -> CampaignJob:
    """Accept an IMPORT job reading a campaign built elsewhere into mojito's rows. Raises
    `ValidationError`, or `AlreadyImported` when the campaign is here or being imported."""
    data, callback = callback_url_split(data)
    with callback.errors_joined():
        account, platform_type, platform_id = _import_request(user, data)
    with transaction.atomic():
        # Imports of one account queue here, so two of one campaign cannot both pass.
        AdAccount.objects.select_for_update(no_key=True).filter(pk=account.pk).exists()
        here = Campaign.objects.filter(ad_account=account, platform_id=platform_id).exists()
        importing = CampaignJob.objects.filter(
            ad_account=account,
            kind=JobKind.IMPORT,
            status__in=UNFINISHED_STATUSES,
            platform_campaign_id=platform_id,
        ).exists()
        if here or importing:
            raise AlreadyImported(
                f"Campaign {platform_id} is already managed here"
                + (" (an import of it is under way)." if importing and not here else ".")
            )
        job = CampaignJob(
            team_id=account.team_id,
            ad_account_id=account.pk,
            platform_type=platform_type,
            created_by=user if user.is_authenticated else None,
            kind=JobKind.IMPORT,
            object_type=ObjectType.CAMPAIGN,
            payload={"ad_account_id": str(account.pk), "platform_id": platform_id},
            platform_campaign_id=platform_id,
            callback_url=callback.url,
            published_at=timezone.now(),
        )
        job.save(force_insert=True)
        audit_write([audit_job_created(job)])
        transaction.on_commit(lambda: job_publish(job_id=job.id))
    logger.info("Import job %s accepted for campaign %s", job.id, platform_id)
    return job
