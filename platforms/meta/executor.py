"""Realise a job's plan on Meta, one object at a time, resuming from the checkpoints.

Order: media (images uploaded, videos handed to Meta by URL), campaign, ad sets, creatives,
ads. Every object that already has a `platform_id` is skipped, so a retried, re-delivered or
crashed job picks up where it stopped.

Never a duplicate on Meta: before each create the row's `attempted_at` is committed. A row
found with `attempted_at` but no `platform_id` may have been created by a call whose answer
was lost (timeout, dropped connection, 5xx, a worker killed between Meta's answer and our
commit), so it is looked up on Meta first (by name under its parent, carrying this job's ad
label, and not already recorded) and adopted instead of created again.

No database transaction is open during a Meta call; each created ID is committed at once.
"""

from __future__ import annotations

import base64
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount
from facebook_business.adobjects.adset import AdSet as FbAdSet
from facebook_business.adobjects.advideo import AdVideo as FbAdVideo
from facebook_business.adobjects.campaign import Campaign as FbCampaign
from facebook_business.exceptions import FacebookError, FacebookRequestError

from adaccounts.models import AdAccount, AdAccountStatus
from campaigns import services
from campaigns.models import (
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    Creative,
    MediaAsset,
    MediaKind,
)
from platforms.meta import ratelimit
from platforms.meta.client import MetaClient, build_meta_client
from platforms.meta.errors import (
    ErrorKind,
    MetaError,
    from_facebook_error,
    from_transport_error,
    scrub,
)
from platforms.meta.media import MediaFetchError, check_public_http_url, fetch_image
from platforms.meta.models import MetaCreativeDetails

logger = logging.getLogger(__name__)

# Meta's fields for a campaign / ad set; None values are not sent.
_CAMPAIGN_FIELDS = (
    "objective",
    "special_ad_categories",
    "buying_type",
    "bid_strategy",
    "daily_budget",
    "lifetime_budget",
    "spend_cap",
    "is_adset_budget_sharing_enabled",
)
_AD_SET_FIELDS = (
    "daily_budget",
    "lifetime_budget",
    "bid_amount",
    "bid_strategy",
    "billing_event",
    "optimization_goal",
    "targeting",
    "promoted_object",
    "destination_type",
    "dsa_beneficiary",
    "dsa_payor",
)
_READY_VIDEO_STATES = {"ready"}
_FAILED_VIDEO_STATES = {"error", "expired"}


class Deferred(Exception):
    """Stop this run without failing: try again at `delay` seconds, attempt refunded."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


class LeaseLost(Exception):
    """The sweeper took the job back (this worker was too slow); stop touching it."""


def job_label(job: CampaignJob) -> str:
    """The ad label every object of a job carries: the marker found again after a crash."""
    return f"mojito-job-{job.pk}"


@dataclass
class Plan:
    campaign: Campaign
    ad_sets: list[AdSet]
    creatives: list[Creative]
    ads: list[Ad]
    media: list[MediaAsset]

    @classmethod
    def load(cls, job: CampaignJob) -> Plan:
        """The whole plan in a fixed number of queries."""
        campaign = Campaign.objects.select_related("meta").get(job=job)
        ad_sets = list(
            AdSet.objects.filter(campaign=campaign).select_related("meta").order_by("position")
        )
        ads = list(
            Ad.objects.filter(ad_set__campaign=campaign)
            .select_related("meta", "ad_set")
            .order_by("ad_set__position", "position")
        )
        creatives = list(
            Creative.objects.filter(job=job).select_related("meta").order_by("created_at", "id")
        )
        by_id = {c.pk: c for c in creatives}
        for ad in ads:
            ad.creative = by_id[ad.creative_id]
        ad_set_by_id = {s.pk: s for s in ad_sets}
        for ad in ads:
            ad.ad_set = ad_set_by_id[ad.ad_set_id]
        media = list(MediaAsset.objects.filter(job=job).order_by("created_at", "id"))
        return cls(campaign=campaign, ad_sets=ad_sets, creatives=creatives, ads=ads, media=media)

    def something_created(self) -> bool:
        rows: list[Any] = [self.campaign, *self.ad_sets, *self.ads]
        rows += [c for c in self.creatives if not c.is_existing]
        return any(row.platform_id for row in rows)


def _params(details: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(details, f) for f in fields if getattr(details, f) is not None}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class MetaJobRun:
    """One run of one job: holds the per-job client and the plan while it works."""

    def __init__(self, job: CampaignJob, account: AdAccount, client: MetaClient) -> None:
        self.job = job
        self.account = account
        self.client = client
        self.fb_account = FbAdAccount(client.account_id, api=client.api)
        self.label = job_label(job)
        self.plan = Plan.load(job)

    # --- plumbing ------------------------------------------------------------------------

    def call(self, step: str, fn: Callable[[], Any]) -> Any:
        """Make one Meta call, turning every failure into a MetaError and honouring pauses."""
        until = ratelimit.paused_until(str(self.account.pk))
        if until:
            raise Deferred(max(1.0, until - timezone.now().timestamp()), "account paused")
        try:
            result = fn()
        except FacebookRequestError as exc:
            raise from_facebook_error(exc, step=step, secrets=self.client.secrets) from None
        except requests.RequestException as exc:
            raise from_transport_error(exc, step=step, secrets=self.client.secrets) from None
        except FacebookError as exc:  # the SDK's own complaints (bad object data)
            raise MetaError(
                message=scrub(str(exc), *self.client.secrets),
                kind=ErrorKind.PERMANENT,
                type=type(exc).__name__,
                step=step,
            ) from None
        finally:
            ratelimit.note_usage(str(self.account.pk), self.client.usage)
        return result

    def heartbeat(self) -> None:
        if not services.job_heartbeat(job=self.job):
            raise LeaseLost()

    def _mark_attempted(self, row: Any) -> None:
        row.attempted_at = timezone.now()
        type(row).objects.filter(pk=row.pk).update(attempted_at=row.attempted_at)

    def _record(self, row: Any, platform_id: str) -> None:
        # Committed before the next call: this is the recovery point.
        row.platform_id = str(platform_id)
        type(row).objects.filter(pk=row.pk).update(platform_id=row.platform_id)
        self.heartbeat()

    def _adopt(self, row: Any, step: str, list_fn: Callable[[dict[str, Any]], Any]) -> str | None:
        """Find an object a lost create made: same name, under the same parent, with our
        label (when Meta reports labels), and not already recorded by any row of ours."""
        params = {
            "filtering": [{"field": "name", "operator": "EQUAL", "value": row.name}],
            "limit": 100,
        }
        found = self.call(f"{step} (lookup)", lambda: list(list_fn(params)))
        candidates = []
        for obj in found:
            data = obj.export_all_data() if hasattr(obj, "export_all_data") else dict(obj)
            if data.get("name") != row.name:
                continue
            labels = data.get("adlabels")
            if labels is not None and self.label not in {
                (label or {}).get("name") for label in labels
            }:
                continue
            candidates.append(str(data["id"]))
        recorded = set(
            type(row)
            .objects.filter(platform_id__in=candidates)
            .values_list("platform_id", flat=True)
        )
        fresh = sorted((c for c in candidates if c not in recorded), key=lambda c: (len(c), c))
        if fresh:
            logger.warning(
                "Job %s: adopting %s %s after a lost answer", self.job.pk, step, fresh[0]
            )
            return fresh[0]
        return None

    def create(
        self,
        row: Any,
        step: str,
        create_fn: Callable[[], Any],
        list_fn: Callable[[dict[str, Any]], Any] | None,
    ) -> str:
        if row.platform_id:
            return row.platform_id
        if row.attempted_at and list_fn is not None:
            adopted = self._adopt(row, step, list_fn)
            if adopted:
                self._record(row, adopted)
                return adopted
        self._mark_attempted(row)
        created = self.call(step, create_fn)
        self._record(row, created["id"])
        return row.platform_id

    # --- steps ---------------------------------------------------------------------------

    def upload_media(self) -> None:
        for asset in self.plan.media:
            if asset.platform_id and (
                asset.kind == MediaKind.IMAGE or asset.platform_status in _READY_VIDEO_STATES
            ):
                continue
            if asset.kind == MediaKind.IMAGE:
                self._upload_image(asset)
            else:
                self._upload_video(asset)

    def _upload_image(self, asset: MediaAsset) -> None:
        step = f"image {asset.source_url[:200]}"
        media = fetch_image(asset.source_url)
        encoded = base64.b64encode(media.content).decode()
        # Uploads are content-addressed (the hash is the bytes' MD5): sending the same
        # image twice yields the same hash, so no lookup is needed after a lost answer.
        result = self.call(step, lambda: self.fb_account.create_ad_image(params={"bytes": encoded}))
        images = (result.export_all_data() if hasattr(result, "export_all_data") else result).get(
            "images"
        ) or {}
        first = next(iter(images.values()), {}) if isinstance(images, dict) else {}
        image_hash = first.get("hash") or result.get("hash")
        if not image_hash:
            raise MetaError(
                message="Meta's image upload answer had no hash.",
                kind=ErrorKind.TRANSIENT,
                step=step,
            )
        asset.platform_id = image_hash
        MediaAsset.objects.filter(pk=asset.pk).update(platform_id=image_hash)
        self.heartbeat()

    def _video_title(self, asset: MediaAsset) -> str:
        return f"{self.label}-{asset.pk}"

    def _upload_video(self, asset: MediaAsset) -> None:
        step = "video"
        if not asset.platform_id:
            if asset.attempted_at:
                adopted = self._find_video(asset)
                if adopted:
                    asset.platform_id = adopted
                    MediaAsset.objects.filter(pk=asset.pk).update(platform_id=adopted)
            if not asset.platform_id:
                asset.attempted_at = timezone.now()
                MediaAsset.objects.filter(pk=asset.pk).update(attempted_at=asset.attempted_at)
                # Meta downloads the video from the URL itself, from Meta's network; still,
                # never hand it an address inside ours.
                check_public_http_url(asset.source_url)
                created = self.call(
                    step,
                    lambda: self.fb_account.create_ad_video(
                        params={"file_url": asset.source_url, "title": self._video_title(asset)}
                    ),
                )
                asset.platform_id = str(created["id"])
                MediaAsset.objects.filter(pk=asset.pk).update(platform_id=asset.platform_id)
                self.heartbeat()
        video = self.call(
            f"{step} status",
            lambda: FbAdVideo(asset.platform_id, api=self.client.api).api_get(fields=["status"]),
        )
        status = (video.get("status") or {}).get("video_status", "")
        asset.platform_status = status
        MediaAsset.objects.filter(pk=asset.pk).update(platform_status=status)
        if status in _FAILED_VIDEO_STATES:
            raise MetaError(
                message=f"Meta could not process the video (status {status}).",
                kind=ErrorKind.PERMANENT,
                step=step,
            )
        if status not in _READY_VIDEO_STATES:
            # Poll by rescheduling, never by sleeping in a worker.
            raise Deferred(settings.META_VIDEO_POLL_SECONDS, f"video {status or 'processing'}")

    def _find_video(self, asset: MediaAsset) -> str | None:
        videos = self.call(
            "video (lookup)",
            lambda: list(
                self.fb_account.get_ad_videos(fields=["id", "title"], params={"limit": 100})
            ),
        )
        title = self._video_title(asset)
        for video in videos:
            if video.get("title") == title:
                return str(video["id"])
        return None

    def create_campaign(self) -> str:
        campaign = self.plan.campaign
        params = {
            "name": campaign.name,
            "status": campaign.status,
            "adlabels": [{"name": self.label}],
            **_params(campaign.meta, _CAMPAIGN_FIELDS),
            **campaign.meta.extra_params,
        }
        return self.create(
            campaign,
            "campaign",
            lambda: self.fb_account.create_campaign(params=params),
            lambda p: self.fb_account.get_campaigns(fields=["id", "name", "adlabels"], params=p),
        )

    def create_ad_set(self, ad_set: AdSet, campaign_id: str) -> str:
        details = ad_set.meta
        params = {
            "name": ad_set.name,
            "status": ad_set.status,
            "campaign_id": campaign_id,
            "adlabels": [{"name": self.label}],
            **_params(details, _AD_SET_FIELDS),
            **({"start_time": _time(details.start_time)} if details.start_time else {}),
            **({"end_time": _time(details.end_time)} if details.end_time else {}),
            **details.extra_params,
        }
        return self.create(
            ad_set,
            f"ad_sets.{ad_set.position}",
            lambda: self.fb_account.create_ad_set(params=params),
            lambda p: FbCampaign(campaign_id, api=self.client.api).get_ad_sets(
                fields=["id", "name", "adlabels"], params=p
            ),
        )

    def _media_by_id(self) -> dict[Any, MediaAsset]:
        return {m.pk: m for m in self.plan.media}

    def creative_spec(self, creative: Creative) -> dict[str, Any]:
        details: MetaCreativeDetails = creative.meta
        media = self._media_by_id()
        image_hash = details.image_hash or (
            media[details.image_asset_id].platform_id if details.image_asset_id else None
        )
        video_id = details.video_id or (
            media[details.video_asset_id].platform_id if details.video_asset_id else None
        )
        thumbnail_hash = details.thumbnail_hash or (
            media[details.thumbnail_asset_id].platform_id if details.thumbnail_asset_id else None
        )
        cta = details.call_to_action or None
        cta_spec = None
        if cta:
            cta_spec = {"type": cta["type"]}
            cta_link = cta.get("link") or details.link
            if cta_link:
                cta_spec["value"] = {"link": cta_link}
        story: dict[str, Any] = {"page_id": details.page_id}
        if details.instagram_user_id:
            story["instagram_user_id"] = details.instagram_user_id
        if video_id:
            video_data: dict[str, Any] = {"video_id": video_id}
            if thumbnail_hash:
                video_data["image_hash"] = thumbnail_hash
            else:
                video_data["image_url"] = self._video_thumbnail(video_id)
            for key, value in (
                ("message", details.message),
                ("title", details.headline),
                ("link_description", details.description),
                ("call_to_action", cta_spec),
            ):
                if value:
                    video_data[key] = value
            story["video_data"] = video_data
        else:
            link_data: dict[str, Any] = {"image_hash": image_hash}
            for key, value in (
                ("link", details.link),
                ("message", details.message),
                ("name", details.headline),
                ("description", details.description),
                ("call_to_action", cta_spec),
            ):
                if value:
                    link_data[key] = value
            story["link_data"] = link_data
        return story

    def _video_thumbnail(self, video_id: str) -> str | None:
        # A video ad needs a thumbnail; when the client gave none, take Meta's own.
        video = self.call(
            "video thumbnail",
            lambda: FbAdVideo(video_id, api=self.client.api).api_get(fields=["picture"]),
        )
        return video.get("picture")

    def create_creative(self, creative: Creative) -> str:
        if creative.is_existing:
            return creative.platform_id or ""
        params = {
            "name": creative.name,
            "object_story_spec": self.creative_spec(creative),
            "adlabels": [{"name": self.label}],
            **creative.meta.extra_params,
        }
        return self.create(
            creative,
            f"creative {creative.name}",
            lambda: self.fb_account.create_ad_creative(params=params),
            lambda p: self.fb_account.get_ad_creatives(fields=["id", "name", "adlabels"], params=p),
        )

    def create_ad(self, ad: Ad, ad_set_id: str, creative_id: str) -> str:
        params = {
            "name": ad.name,
            "status": ad.status,
            "adset_id": ad_set_id,
            "creative": {"creative_id": creative_id},
            "adlabels": [{"name": self.label}],
            **ad.meta.extra_params,
        }
        return self.create(
            ad,
            f"ad_sets.{ad.ad_set.position}.ads.{ad.position}",
            lambda: self.fb_account.create_ad(params=params),
            lambda p: FbAdSet(ad_set_id, api=self.client.api).get_ads(
                fields=["id", "name", "adlabels"], params=p
            ),
        )

    def run(self) -> None:
        self.upload_media()
        campaign_id = self.create_campaign()
        for ad_set in self.plan.ad_sets:
            self.create_ad_set(ad_set, campaign_id)
        for creative in self.plan.creatives:
            self.create_creative(creative)
        for ad in self.plan.ads:
            self.create_ad(ad, ad.ad_set.platform_id or "", ad.creative.platform_id or "")


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than Meta asked."""
    ceiling = min(
        settings.JOB_RETRY_MAX_SECONDS, settings.JOB_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1)
    )
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)
    return max(delay, retry_after or 0)


def execute_meta_job(*, job: CampaignJob) -> None:
    """Run a claimed job to its outcome: SUCCESS, FAILED, PARTIAL_SUCCESS or rescheduled."""
    account = job.ad_account
    run: MetaJobRun | None = None
    try:
        client = build_meta_client(
            account_id=account.platform_account_id, credentials=account.credentials
        )
        run = MetaJobRun(job, account, client)
        run.run()
    except LeaseLost:
        logger.warning("Job %s: lease lost mid-run; another worker owns it now", job.pk)
        return
    except Deferred as wait:
        logger.info("Job %s deferred %.1f s: %s", job.pk, wait.delay, wait.reason)
        services.job_reschedule(
            job=job,
            delay=wait.delay,
            error=job.error,
            count_attempt=False,
            platform_campaign_id=run.plan.campaign.platform_id if run else None,
        )
        return
    except MetaError as error:
        _handle_meta_error(job, account, run, error)
        return
    except MediaFetchError as exc:
        error = MetaError(
            message=str(exc),
            kind=ErrorKind.TRANSIENT if exc.transient else ErrorKind.PERMANENT,
            type="MediaFetchError",
            step="media",
        )
        _handle_meta_error(job, account, run, error)
        return
    services.job_succeed(job=job, platform_campaign_id=run.plan.campaign.platform_id)


def _handle_meta_error(
    job: CampaignJob, account: AdAccount, run: MetaJobRun | None, error: MetaError
) -> None:
    partial = bool(run and run.plan.something_created())
    campaign_id = run.plan.campaign.platform_id if run else None
    if error.kind is ErrorKind.TOKEN:
        # The token is dead: no other job of this account can succeed until new credentials.
        with transaction.atomic():
            AdAccount.objects.filter(pk=account.pk).update(
                status=AdAccountStatus.REQUIRES_REAUTH, updated_at=timezone.now()
            )
        logger.warning("Account %s requires re-authentication (Meta code 190)", account.pk)
        services.job_fail(
            job=job, error=error.as_job_error(), partial=partial, platform_campaign_id=campaign_id
        )
        return
    if error.transient and error.is_rate_limit:
        pause = error.retry_after or settings.META_USAGE_PAUSE_SECONDS
        ratelimit.pause_account(str(account.pk), pause, reason=f"Meta code {error.code}")
        services.job_reschedule(
            job=job,
            delay=pause,
            error=error.as_job_error(),
            count_attempt=False,
            platform_campaign_id=campaign_id,
        )
        return
    if error.transient and job.attempts < settings.JOB_MAX_ATTEMPTS:
        services.job_reschedule(
            job=job,
            delay=_backoff(job.attempts, error.retry_after),
            error=error.as_job_error(),
            platform_campaign_id=campaign_id,
        )
        return
    services.job_fail(
        job=job, error=error.as_job_error(), partial=partial, platform_campaign_id=campaign_id
    )
