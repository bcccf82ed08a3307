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

The module is long because the job machinery (leases, write-ahead marks, adoption, backoff,
final status) still lives here beside Meta's steps; issue 10 moves it into a platform-neutral
engine in campaigns/, which leaves here only what is Meta's.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

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
from platforms.meta import params, ratelimit
from platforms.meta.client import MetaClient, build_meta_client
from platforms.meta.errors import (
    ErrorKind,
    MetaError,
    from_facebook_error,
    from_transport_error,
    scrub,
)
from platforms.meta.media import MediaFetchError, check_public_http_url, fetch_image
from platforms.meta.models import CreativeFormat, MetaCreativeCard

logger = logging.getLogger(__name__)

_READY_VIDEO_STATES = {"ready"}
_LOOKUP_FIELDS = ["id", "name", "adlabels"]


def _ad_set_step(ad_set: AdSet) -> str:
    return f"ad_sets.{ad_set.position}"


def _creative_step(creative: Creative) -> str:
    return f"creative {creative.name}"


def _ad_step(ad: Ad) -> str:
    return f"ad_sets.{ad.ad_set.position}.ads.{ad.position}"


_FAILED_VIDEO_STATES = {"error", "expired"}


class Deferred(Exception):
    """Stop this run without failing: try again at `delay` seconds, attempt refunded."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


class BatchRefused(Exception):
    """The Graph endpoint refused a batch request as a whole (not one of its operations)."""

    def __init__(self, error: MetaError) -> None:
        super().__init__(error.message)
        self.error = error


# The Graph URL that refused batch requests in this process, if one did.
_batch_refused_by: str | None = None


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
        """The whole plan in a fixed number of queries: two, one more with media, one more
        with carousels.

        Ad sets come with their campaign, ads with their creatives, each joined to its Meta
        details; the joins hand out one Python object per row, so shared parents are made
        one object again (a platform ID recorded on an ad set must be seen by its ads).
        """
        ad_sets = list(
            AdSet.objects.filter(campaign__job=job)
            .select_related("meta", "campaign__meta")
            .order_by("position")
        )
        campaign = (
            ad_sets[0].campaign if ad_sets else Campaign.objects.select_related("meta").get(job=job)
        )
        for ad_set in ad_sets:
            ad_set.campaign = campaign
        ad_set_by_id = {s.pk: s for s in ad_sets}
        ads = list(
            Ad.objects.filter(ad_set__campaign__job=job)
            .select_related("meta", "creative__meta")
            .order_by("ad_set__position", "position")
        )
        creative_by_id: dict[Any, Creative] = {}
        for ad in ads:
            ad.ad_set = ad_set_by_id[ad.ad_set_id]
            ad.creative = creative_by_id.setdefault(ad.creative_id, ad.creative)
        creatives = list(creative_by_id.values())
        carousels = {
            c.pk: c
            for c in creatives
            if getattr(c, "meta", None) is not None and c.meta.format == CreativeFormat.CAROUSEL
        }
        for creative in creatives:
            creative.cards = []
        if carousels:
            for card in MetaCreativeCard.objects.filter(creative_id__in=carousels).order_by(
                "creative_id", "position"
            ):
                carousels[card.creative_id].cards.append(card)
        uses_media = any(
            media.image_asset_id or media.video_asset_id or media.thumbnail_asset_id
            for c in creatives
            if getattr(c, "meta", None) is not None
            for media in (c.meta, *c.cards)
        )
        media = (
            list(MediaAsset.objects.filter(job=job).order_by("created_at", "id"))
            if uses_media
            else []
        )
        return cls(campaign=campaign, ad_sets=ad_sets, creatives=creatives, ads=ads, media=media)

    def something_created(self) -> bool:
        rows: list[Any] = [self.campaign, *self.ad_sets, *self.ads]
        rows += [c for c in self.creatives if not c.is_existing]
        return any(row.platform_id for row in rows)


def meta_call(client: MetaClient, account_key: str, step: str, fn: Callable[[], Any]) -> Any:
    """Make one Meta call, turning every failure into a MetaError and honouring pauses."""
    until = ratelimit.paused_until(account_key)
    if until:
        raise Deferred(max(1.0, until - timezone.now().timestamp()), "account paused")
    try:
        return fn()
    except FacebookRequestError as exc:
        error = from_facebook_error(exc, step=step, secrets=client.secrets)
        if error.is_rate_limit and client.usage and client.usage.regain_seconds:
            error.retry_after = client.usage.regain_seconds
        raise error from None
    except requests.RequestException as exc:
        raise from_transport_error(exc, step=step, secrets=client.secrets) from None
    except FacebookError as exc:  # the SDK's own complaints (bad object data)
        raise MetaError(
            message=scrub(str(exc), *client.secrets),
            kind=ErrorKind.PERMANENT,
            type=type(exc).__name__,
            step=step,
        ) from None
    finally:
        ratelimit.note_usage(account_key, client.usage)


def upload_image(client: MetaClient, account_key: str, url: str) -> str:
    """Download an image (SSRF-safe) and upload it to the account; return Meta's hash.

    Uploads are content-addressed (the hash is the bytes' MD5): sending the same image twice
    yields the same hash, so no lookup is needed after a lost answer. Touches no database,
    so media threads can run it.
    """
    step = "media"
    media = fetch_image(url)
    encoded = base64.b64encode(media.content).decode()
    account = FbAdAccount(client.account_id, api=client.api)
    result = meta_call(
        client, account_key, step, lambda: account.create_ad_image(params={"bytes": encoded})
    )
    data = result.export_all_data() if hasattr(result, "export_all_data") else dict(result)
    images = data.get("images") or {}
    first = next(iter(images.values()), {}) if isinstance(images, dict) else {}
    image_hash = first.get("hash") or data.get("hash")
    if not image_hash:
        raise MetaError(
            message="Meta's image upload answer had no hash.", kind=ErrorKind.TRANSIENT, step=step
        )
    return str(image_hash)


class MetaJobRun:
    """One run of one job: holds the per-job client and the plan while it works."""

    def __init__(
        self,
        job: CampaignJob,
        account: AdAccount,
        client: MetaClient,
        credentials: dict[str, str],
    ) -> None:
        self.job = job
        self.account = account
        self.client = client
        # Decrypted, in memory for this run only: media threads build their own sessions.
        self._credentials = credentials
        # The claim just set the lease.
        self._last_heartbeat = time.monotonic()
        self.fb_account = FbAdAccount(client.account_id, api=client.api)
        self.label = job_label(job)
        self.plan = Plan.load(job)
        # Before every request to Meta: a run that stalled long enough to lose the job stops
        # there (the checkpoint writes alone leave a gap between their check and the send).
        client.http.before_send = self.heartbeat

    # --- plumbing ------------------------------------------------------------------------

    def call(self, step: str, fn: Callable[[], Any]) -> Any:
        return meta_call(self.client, str(self.account.pk), step, fn)

    def heartbeat(self) -> None:
        """Extend the lease, at most ten times per lease period: every checkpoint write is
        already conditional on holding the job, so this only has to keep the lease alive."""
        now = time.monotonic()
        if now - self._last_heartbeat < settings.JOB_LEASE_SECONDS / 10:
            return
        if not services.job_heartbeat(job=self.job):
            raise LeaseLost()
        self._last_heartbeat = now

    def _write(self, model: type, pks: list[Any], **fields: Any) -> None:
        """Update plan rows only while this run holds the job. A run that lost its lease
        (the sweeper gave the job to another run) must not touch the checkpoints."""
        self._write_rows({model: {pk: fields for pk in pks}})

    def _write_rows(self, changes: dict[type, services.RowChanges]) -> None:
        if not services.job_update_rows(self.job, changes):
            raise LeaseLost()

    def _mark_attempted(self, row: Any) -> None:
        # The write-ahead mark, and the last moment to find out the job was taken away:
        # a run that lost its lease sends nothing more to Meta.
        row.attempted_at = timezone.now()
        self._write(type(row), [row.pk], attempted_at=row.attempted_at)
        self.heartbeat()

    def _record(self, row: Any, platform_id: str) -> None:
        # Committed before the next call: this is the recovery point.
        row.platform_id = str(platform_id)
        self._write(type(row), [row.pk], platform_id=row.platform_id)
        self.heartbeat()

    def _recorded_meanwhile(self, row: Any) -> str | None:
        """The row's platform ID as the database has it now (another run may have set it)."""
        return type(row).objects.filter(pk=row.pk).values_list("platform_id", flat=True).first()

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
            .exclude(pk=row.pk)
            .values_list("platform_id", flat=True)
        )
        fresh = sorted((c for c in candidates if c not in recorded), key=lambda c: (len(c), c))
        if fresh:
            logger.warning(
                "Job %s: adopting %s %s after a lost answer", self.job.pk, step, fresh[0]
            )
            return fresh[0]
        return None

    def _adopt_into(self, row: Any, step: str, list_fn: Callable[[dict[str, Any]], Any]) -> None:
        """After a lost answer: take the ID another run recorded meanwhile, or adopt the
        object the lost create made."""
        if recorded := self._recorded_meanwhile(row):
            row.platform_id = recorded
            return
        adopted = self._adopt(row, step, list_fn)
        if adopted:
            self._record(row, adopted)
        else:
            self.heartbeat()

    def create(
        self,
        row: Any,
        step: str,
        create_fn: Callable[[], Any],
        list_fn: Callable[[dict[str, Any]], Any],
    ) -> str:
        if row.attempted_at and not row.platform_id:
            self._adopt_into(row, step, list_fn)
        if row.platform_id:
            return row.platform_id
        self._mark_attempted(row)
        created = self.call(step, create_fn)
        self._record(row, created["id"])
        return row.platform_id

    # --- steps ---------------------------------------------------------------------------

    def upload_media(self) -> None:
        """Images uploaded, every video handed to Meta, then every pending video's status
        read; one wait for all of them (a carousel of ten videos encodes in parallel)."""
        videos = []
        for asset in self.plan.media:
            if asset.kind == MediaKind.IMAGE:
                if not asset.platform_id:
                    self._upload_image(asset)
            elif asset.platform_status not in _READY_VIDEO_STATES:
                self._create_video(asset)
                videos.append(asset)
        waiting = [video for video in videos if not self._video_ready(video)]
        if waiting:
            # Poll by rescheduling, never by sleeping in a worker.
            statuses = sorted({v.platform_status or "processing" for v in waiting})
            raise Deferred(
                settings.META_VIDEO_POLL_SECONDS,
                f"{len(waiting)} video(s) {', '.join(statuses)}",
            )

    def _upload_image(self, asset: MediaAsset) -> None:
        self._record(asset, upload_image(self.client, str(self.account.pk), asset.source_url))

    def _video_title(self, asset: MediaAsset) -> str:
        return f"{self.label}-{asset.pk}"

    def _create_video(self, asset: MediaAsset) -> None:
        """Hand the video to Meta by URL, once: a lost answer is looked up by title first."""
        if asset.platform_id:
            return
        if asset.attempted_at:
            adopted = self._find_video(asset)
            if adopted:
                self._record(asset, adopted)
                return
        self._mark_attempted(asset)
        # Meta downloads the video from the URL itself, from Meta's network; still, never hand
        # it an address inside ours.
        check_public_http_url(asset.source_url)
        created = self.call(
            "video",
            lambda: self.fb_account.create_ad_video(
                params={"file_url": asset.source_url, "title": self._video_title(asset)}
            ),
        )
        self._record(asset, created["id"])

    def _video_ready(self, asset: MediaAsset) -> bool:
        """Read the video's processing status from Meta and keep it; fail on Meta's error."""
        video = self.call(
            "video status",
            lambda: FbAdVideo(asset.platform_id, api=self.client.api).api_get(fields=["status"]),
        )
        status = (video.get("status") or {}).get("video_status", "")
        asset.platform_status = status
        self._write(MediaAsset, [asset.pk], platform_status=status)
        if status in _FAILED_VIDEO_STATES:
            raise MetaError(
                message=f"Meta could not process the video (status {status}).",
                kind=ErrorKind.PERMANENT,
                step="video",
            )
        return status in _READY_VIDEO_STATES

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

    # --- what Meta is sent (shared by sequential and batch runs) --------------------------

    def campaign_params(self) -> dict[str, Any]:
        return params.campaign_params(self.plan.campaign, self.label)

    def ad_set_params(self, ad_set: AdSet, campaign_ref: str) -> dict[str, Any]:
        return params.ad_set_params(ad_set, campaign_ref, self.label)

    def creative_params(self, creative: Creative) -> dict[str, Any]:
        return self._creative_params(creative, self.label)

    def ad_params(self, ad: Ad, ad_set_ref: str, creative_ref: str) -> dict[str, Any]:
        return params.ad_params(ad, ad_set_ref, creative_ref, self.label)

    @cached_property
    def _creative_params(self) -> params.CreativeParams:
        # The plan's assets themselves (updated in place as they upload), so never stale.
        return params.CreativeParams({m.pk: m for m in self.plan.media}, self._video_thumbnail)

    def _video_thumbnail(self, video_id: str) -> str:
        # A video ad needs a thumbnail; when the client gave none, take Meta's own.
        video = self.call(
            "video thumbnail",
            lambda: FbAdVideo(video_id, api=self.client.api).api_get(fields=["picture"]),
        )
        picture = video.get("picture")
        if not picture:
            raise MetaError(
                message=(
                    f"Meta has no thumbnail for video {video_id}; "
                    "send thumbnail_url or thumbnail_hash with it."
                ),
                kind=ErrorKind.PERMANENT,
                step="video thumbnail",
            )
        return str(picture)

    # --- where a lost create would be found ---------------------------------------------

    def _list_campaigns(self, params: dict[str, Any]) -> Any:
        return self.fb_account.get_campaigns(fields=_LOOKUP_FIELDS, params=params)

    def _list_ad_sets(self, campaign_id: str) -> Callable[[dict[str, Any]], Any]:
        campaign = FbCampaign(campaign_id, api=self.client.api)
        return lambda params: campaign.get_ad_sets(fields=_LOOKUP_FIELDS, params=params)

    def _list_creatives(self, params: dict[str, Any]) -> Any:
        return self.fb_account.get_ad_creatives(fields=_LOOKUP_FIELDS, params=params)

    def _list_ads(self, ad_set_id: str) -> Callable[[dict[str, Any]], Any]:
        ad_set = FbAdSet(ad_set_id, api=self.client.api)
        return lambda params: ad_set.get_ads(fields=_LOOKUP_FIELDS, params=params)

    # --- sequential creates ---------------------------------------------------------------

    def create_campaign(self) -> str:
        params = self.campaign_params()
        return self.create(
            self.plan.campaign,
            "campaign",
            lambda: self.fb_account.create_campaign(params=params),
            self._list_campaigns,
        )

    def create_ad_set(self, ad_set: AdSet, campaign_id: str) -> str:
        params = self.ad_set_params(ad_set, campaign_id)
        return self.create(
            ad_set,
            _ad_set_step(ad_set),
            lambda: self.fb_account.create_ad_set(params=params),
            self._list_ad_sets(campaign_id),
        )

    def create_creative(self, creative: Creative) -> str:
        if creative.is_existing or creative.platform_id:
            # Its spec may cost a Graph call (a video's thumbnail): not for nothing.
            return creative.platform_id or ""
        params = self.creative_params(creative)
        return self.create(
            creative,
            _creative_step(creative),
            lambda: self.fb_account.create_ad_creative(params=params),
            self._list_creatives,
        )

    def create_ad(self, ad: Ad, ad_set_id: str, creative_id: str) -> str:
        params = self.ad_params(ad, ad_set_id, creative_id)
        return self.create(
            ad,
            _ad_step(ad),
            lambda: self.fb_account.create_ad(params=params),
            self._list_ads(ad_set_id),
        )

    def run(self) -> None:
        self.upload_media()
        self.create_remaining()

    def create_remaining(self) -> None:
        campaign_id = self.create_campaign()
        for ad_set in self.plan.ad_sets:
            self.create_ad_set(ad_set, campaign_id)
        for creative in self.plan.creatives:
            self.create_creative(creative)
        for ad in self.plan.ads:
            self.create_ad(ad, ad.ad_set.platform_id or "", ad.creative.platform_id or "")


@dataclass
class _BatchOp:
    name: str
    row: Any
    step: str
    relative_url: str
    params: dict[str, Any]

    def as_request(self) -> dict[str, Any]:
        return {
            "method": "POST",
            "relative_url": self.relative_url,
            "body": _form_encode(self.params),
            "name": self.name,
            # Every answer is needed: it carries the created ID, the checkpoint.
            "omit_response_on_success": False,
        }


_RESULT_REF = re.compile(r"%7Bresult%3D([A-Za-z0-9_]+)%3A%24\.id%7D")


def _form_encode(params: dict[str, Any]) -> str:
    """Form-encode like the SDK (lists and objects as JSON), leaving `{result=name:$.id}`
    references readable for Meta's batch substitution."""
    encoded = urlencode(
        {
            key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            for key, value in params.items()
        }
    )
    return _RESULT_REF.sub(lambda m: f"{{result={m.group(1)}:$.id}}", encoded)


class BatchMetaJobRun(MetaJobRun):
    """The same plan, sent as Graph batch requests: one HTTP round trip per batch.

    Meta's batch rules (Graph API, "Batch Requests"): at most 50 operations; later operations
    use earlier results with `{result=name:$.id}`; "Batch requests cannot include multiple
    Adsets under the same Campaign". So a job takes one batch per ad set, each also carrying
    that ad set's creatives and ads (and the campaign, in the first), and a 1-1-1 job whose
    media is uploaded costs a single request. Images upload concurrently before that.

    The write-ahead marks every row of a batch before it is sent; the answer of each
    operation is parsed on its own (created ID, or Meta's error). An operation answered
    `null` (not run, or no answer) keeps its mark, so it is looked up before being sent again.
    """

    def upload_media(self) -> None:
        images = [a for a in self.plan.media if a.kind == MediaKind.IMAGE and not a.platform_id]
        if len(images) > 1:
            self._upload_images_concurrently(images)
        # Then videos (and a single image) as in sequential mode; uploaded images are skipped.
        super().upload_media()

    def _upload_images_concurrently(self, images: list[MediaAsset]) -> None:
        account_key = str(self.account.pk)

        def upload(url: str) -> str:
            # One SDK session per thread: a requests.Session is not shared across threads.
            client = build_meta_client(
                account_id=self.client.account_id, credentials=self._credentials
            )
            return upload_image(client, account_key, url)

        workers = min(settings.META_MEDIA_CONCURRENCY, len(images))
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media") as pool:
            futures = {pool.submit(upload, asset.source_url): asset for asset in images}
            for future in as_completed(futures):
                try:
                    platform_id = future.result()
                except (MetaError, MediaFetchError, Deferred) as exc:
                    failure = failure or exc
                    continue
                # Recorded here, on the job's thread: each upload is a checkpoint of its own.
                self._record(futures[future], platform_id)
        if failure is not None:
            raise failure

    def reconcile(self) -> None:
        """Adopt what lost answers may have created, before planning any create."""
        plan = self.plan
        campaign = plan.campaign
        if campaign.attempted_at and not campaign.platform_id:
            self._adopt_into(campaign, "campaign", self._list_campaigns)
        if campaign.platform_id:
            for ad_set in plan.ad_sets:
                if ad_set.attempted_at and not ad_set.platform_id:
                    self._adopt_into(
                        ad_set, _ad_set_step(ad_set), self._list_ad_sets(campaign.platform_id)
                    )
        for creative in plan.creatives:
            if creative.attempted_at and not creative.platform_id and not creative.is_existing:
                self._adopt_into(creative, _creative_step(creative), self._list_creatives)
        for ad in plan.ads:
            if ad.attempted_at and not ad.platform_id and ad.ad_set.platform_id:
                self._adopt_into(ad, _ad_step(ad), self._list_ads(ad.ad_set.platform_id))

    def next_batch(self) -> list[_BatchOp]:
        """The next batch from the plan's current state (IDs from earlier batches are
        literals by now; within the batch, references)."""
        capacity = settings.META_BATCH_MAX_OPERATIONS
        ops: list[_BatchOp] = []
        names: dict[Any, str] = {}
        account = self.client.account_id

        def ref(row: Any) -> str | None:
            if row.platform_id:
                return str(row.platform_id)
            name = names.get(row.pk)
            return f"{{result={name}:$.id}}" if name else None

        def add(row: Any, step: str, edge: str, params: dict[str, Any]) -> None:
            name = f"op{len(ops)}"
            ops.append(_BatchOp(name, row, step, f"{account}/{edge}", params))
            names[row.pk] = name

        campaign = self.plan.campaign
        if not campaign.platform_id:
            add(campaign, "campaign", "campaigns", self.campaign_params())
        campaign_ref = ref(campaign)
        assert campaign_ref is not None

        ads_by_set: dict[Any, list[Ad]] = {}
        for ad in self.plan.ads:
            ads_by_set.setdefault(ad.ad_set_id, []).append(ad)
        ad_set_sent = False
        for ad_set in self.plan.ad_sets:
            if not ad_set.platform_id:
                if ad_set_sent or len(ops) >= capacity:
                    continue  # one ad set of the campaign per batch
                add(
                    ad_set, _ad_set_step(ad_set), "adsets", self.ad_set_params(ad_set, campaign_ref)
                )
                ad_set_sent = True
            ad_set_ref = ref(ad_set)
            if ad_set_ref is None:
                continue
            for ad in ads_by_set.get(ad_set.pk, []):
                if ad.platform_id:
                    continue
                creative = ad.creative
                needed = 1 if ref(creative) else 2
                if len(ops) + needed > capacity:
                    break
                if not ref(creative):
                    add(
                        creative,
                        _creative_step(creative),
                        "adcreatives",
                        self.creative_params(creative),
                    )
                creative_ref = ref(creative)
                assert creative_ref is not None
                add(ad, _ad_step(ad), "ads", self.ad_params(ad, ad_set_ref, creative_ref))
        # Fill what room is left with creatives later batches need: they depend on nothing.
        for creative in self.plan.creatives:
            if len(ops) >= capacity:
                break
            if not creative.platform_id and not creative.is_existing and creative.pk not in names:
                add(
                    creative,
                    _creative_step(creative),
                    "adcreatives",
                    self.creative_params(creative),
                )
        return ops

    def execute_batch(self, ops: list[_BatchOp]) -> bool:
        """Send one batch; record every created ID; raise the first failure. Returns whether
        some operation went unanswered (to be looked up before it is sent again)."""
        now = timezone.now()
        marks: dict[type, services.RowChanges] = {}
        for op in ops:
            op.row.attempted_at = now
            marks.setdefault(type(op.row), {})[op.row.pk] = {"attempted_at": now}
        self._write_rows(marks)
        self.heartbeat()

        batch = json.dumps([op.as_request() for op in ops], separators=(",", ":"))
        try:
            response = self.call(
                "batch",
                lambda: self.client.api.call(
                    "POST", (), params={"batch": batch, "include_headers": "false"}
                ),
            )
        except MetaError as error:
            if error.kind is ErrorKind.PERMANENT and not error.ambiguous:
                # The batch itself was refused (a 4xx on the whole request): none of its
                # operations ran, so their marks go, and the caller may fall back.
                for op in ops:
                    op.row.attempted_at = None
                    marks[type(op.row)][op.row.pk] = {"attempted_at": None}
                self._write_rows(marks)
                raise BatchRefused(error) from None
            raise
        answers = response.json()
        if not isinstance(answers, list) or len(answers) != len(ops):
            raise MetaError(
                message="Meta's batch answer did not match the request.",
                kind=ErrorKind.TRANSIENT,
                step="batch",
                ambiguous=True,
            )
        created: list[Any] = []
        first_error: MetaError | None = None
        unanswered = False
        for op, answer in zip(ops, answers, strict=True):
            if answer is None:
                unanswered = True
                continue
            try:
                body = json.loads(answer.get("body") or "null")
            except ValueError:
                body = None
            code = answer.get("code")
            if code == 200 and isinstance(body, dict) and body.get("id"):
                op.row.platform_id = str(body["id"])
                created.append(op.row)
            elif first_error is None:
                first_error = self._operation_error(op, code, body)
        records: dict[type, services.RowChanges] = {}
        for row in created:
            records.setdefault(type(row), {})[row.pk] = {"platform_id": row.platform_id}
        self._write_rows(records)
        self.heartbeat()
        if first_error is not None:
            raise first_error
        if not created:
            raise MetaError(
                message="Meta answered no operation of the batch.",
                kind=ErrorKind.TRANSIENT,
                step="batch",
                ambiguous=True,
            )
        return unanswered

    def _operation_error(self, op: _BatchOp, code: Any, body: Any) -> MetaError:
        exc = FacebookRequestError(
            "Batch operation failed",
            request_context={"method": "POST", "path": op.relative_url},
            http_status=code,
            http_headers={},
            body=json.dumps(body) if body is not None else "",
        )
        return from_facebook_error(exc, step=op.step, secrets=self.client.secrets)

    def run(self) -> None:
        global _batch_refused_by
        self.upload_media()
        self.reconcile()
        if _batch_refused_by == settings.META_GRAPH_URL:
            super().create_remaining()
            return
        # Each round creates at least one object, so the plan bounds the rounds.
        for _ in range(len(self.plan.ads) + len(self.plan.creatives) + len(self.plan.ad_sets) + 2):
            ops = self.next_batch()
            if not ops:
                return
            try:
                unanswered = self.execute_batch(ops)
            except BatchRefused as refused:
                # A Graph endpoint without batch support (a proxy, a partial fake): finish
                # this job, and later ones of this process, one request per object.
                _batch_refused_by = settings.META_GRAPH_URL
                logger.warning(
                    "Graph batch refused (%s); using sequential requests", refused.error.message
                )
                super().create_remaining()
                return
            if unanswered:
                self.reconcile()
        raise MetaError(
            message="The plan did not complete in the expected number of batches.",
            kind=ErrorKind.TRANSIENT,
            step="batch",
        )


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
        credentials = account.credentials
        client = build_meta_client(account_id=account.platform_account_id, credentials=credentials)
        run_class = BatchMetaJobRun if settings.META_EXECUTION_MODE == "batch" else MetaJobRun
        run = run_class(job, account, client, credentials)
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
        # API.md: the job whose call gets 190 ends FAILED (a retry resumes what exists).
        services.job_fail(
            job=job, error=error.as_job_error(), partial=False, platform_campaign_id=campaign_id
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
