"""The job engine's Meta adapter: Meta's calls for each kind of step, one at a time or as a
Graph batch, the lookups that find what a lost create made, and Meta's error taxonomy.

Everything that makes a job safe (marks, records, leases, backoff, final status) is the
engine's, in `campaigns.engine`; this module only says how Meta is asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils import timezone
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount
from facebook_business.adobjects.adset import AdSet as FbAdSet
from facebook_business.adobjects.campaign import Campaign as FbCampaign

from adaccounts.models import AdAccount
from campaigns.engine.adapter import Failure, FailureKind, GroupRefused, NotSent, job_label
from campaigns.engine.steps import NO_ANSWER, Plan, Step, Wait
from campaigns.models import CampaignJob, JobKind
from platforms.meta import batch, changes, imports, params, sync, uploads
from platforms.meta.calls import meta_call
from platforms.meta.client import MetaClient, build_meta_client
from platforms.meta.errors import ErrorKind, MetaError, failure_of, scrub
from platforms.meta.media import MediaFetchError
from platforms.meta.plan import (
    AD,
    AD_SET,
    CAMPAIGN,
    CHANGE,
    CREATIVE,
    IMAGE,
    READY_VIDEO_STATES,
    STATUS_READ,
    VIDEO,
    VIDEO_STATUS,
    MetaRows,
    build_plan,
)

logger = logging.getLogger(__name__)

_LOOKUP_FIELDS = ["id", "name", "adlabels"]


def _media_failure(exc: MediaFetchError) -> Failure:
    return Failure(
        kind=FailureKind.TRANSIENT if exc.transient else FailureKind.PERMANENT,
        message=str(exc),
        step="media",
        details={"type": "MediaFetchError"},
    )


class MetaAdapter:
    def open(
        self,
        *,
        job: CampaignJob,
        account: AdAccount,
        credentials: dict[str, str],
        before_send: Callable[[], None],
    ) -> MetaSession:
        client = build_meta_client(account_id=account.platform_account_id, credentials=credentials)
        # Before every request to Meta: a run that stalled long enough to lose the job stops
        # there (the checkpoint writes alone leave a gap between their check and the send).
        client.http.before_send = before_send
        return MetaSession(job, account, client, credentials)


class MetaSession:
    def __init__(
        self, job: CampaignJob, account: AdAccount, client: MetaClient, credentials: dict[str, str]
    ) -> None:
        self.job = job
        self.client = client
        self.account_key = str(account.pk)
        # Decrypted, in memory for this run only: media threads build their own sessions.
        self._credentials = credentials
        self.fb_account = FbAdAccount(client.account_id, api=client.api)
        self.label = job_label(job)
        self.rows: MetaRows | changes.ChangeRows | None = None
        self.sync: sync.SyncRun | None = None
        self.account = account
        # Meta may go on with a request it did not answer until its own timeout.
        self.unanswered_wait = float(settings.META_REQUEST_TIMEOUT)
        # A Graph endpoint refuses batches per account, if at all.
        self.group_scope = (
            f"{settings.META_GRAPH_URL} {client.account_id}"
            if settings.META_EXECUTION_MODE == "batch"
            else None
        )

    def load_plan(self) -> Plan:
        if self.job.kind == JobKind.CREATE:
            self.rows = MetaRows.load(self.job)
            return build_plan(self.rows)
        if self.job.kind in (JobKind.UPDATE, JobKind.ARCHIVE):
            self.rows = changes.ChangeRows.load(self.job)
            return changes.build_change_plan(self.rows)
        if self.job.kind == JobKind.IMPORT:
            return imports.build_import_plan(self.job)
        if self.job.kind == JobKind.SYNC:
            self.sync = sync.SyncRun(self.job, self.account, self.client, self.account_key)
            return self.sync.build_plan()
        raise Failure(
            FailureKind.PERMANENT,
            f"mojito cannot run {self.job.kind} jobs on Meta yet.",
            step="plan",
        )

    def call(self, step: str, fn: Callable[[], Any], *, check_pause: bool = True) -> Any:
        return meta_call(self.client, self.account_key, step, fn, check_pause=check_pause)

    # --- the engine's questions ------------------------------------------------------------

    def classify(self, exc: BaseException) -> Failure | None:
        if isinstance(exc, MetaError):
            return failure_of(exc)
        if isinstance(exc, MediaFetchError):
            return _media_failure(exc)
        return None

    def scrub(self, text: str) -> str:
        return scrub(text, *self.client.secrets, limit=None)

    def compose(self, candidates: Sequence[Step]) -> list[Step]:
        first = candidates[0]
        if first.kind == imports.IMPORT or first.kind in sync.SYNC_KINDS:
            return [first]
        if first.kind == IMAGE:
            # Images upload concurrently, each on its own connection; as many as upload at
            # once, so that the group takes one upload's time between two heartbeats.
            images = [step for step in candidates if step.kind == IMAGE]
            return images[: settings.META_MEDIA_CONCURRENCY]
        if first.kind in (VIDEO, VIDEO_STATUS):
            return [first]
        if self.job.kind != JobKind.CREATE:
            return batch.compose_changes(candidates, settings.META_BATCH_MAX_OPERATIONS)
        return batch.compose(candidates, settings.META_BATCH_MAX_OPERATIONS)

    def run(self, steps: Sequence[Step]) -> list[Any]:
        try:
            if len(steps) == 1:
                try:
                    return [self._run_one(steps[0])]
                except MetaError as error:
                    if steps[0].kind == STATUS_READ:
                        return [changes.read_outcome(steps[0], error)]
                    # Per step: a whole batch's throttle is the account's, never this change's.
                    raise changes.budget_refusal(steps[0], failure_of(error)) from None
            if steps[0].kind == IMAGE:
                return self._upload_images(steps)
            return self._run_batch(steps)
        except MetaError as error:
            raise failure_of(error) from None
        except MediaFetchError as exc:
            raise _media_failure(exc) from None

    def find(self, step: Step) -> list[str]:
        try:
            if step.kind == VIDEO:
                title = uploads.video_title(self.label, step.row.pk)
                return uploads.find_videos(self.client, self.account_key, title)
            return self._find_labelled(step)
        except MetaError as error:
            raise failure_of(error) from None

    # --- one step ----------------------------------------------------------------------------

    def _run_one(self, step: Step) -> Any:
        row = step.row
        if step.kind in sync.SYNC_KINDS:
            assert self.sync is not None
            return self.sync.run(step)
        if step.kind == imports.IMPORT:
            platform_id = str(self.job.payload["platform_id"])
            return imports.read_campaign_tree(self.client, self.account_key, platform_id)
        if step.kind == IMAGE:
            return uploads.upload_image(self.client, self.account_key, row.source_url)
        if step.kind == VIDEO:
            title = uploads.video_title(self.label, row.pk)
            return uploads.create_video(self.client, self.account_key, row.source_url, title)
        if step.kind == VIDEO_STATUS:
            status = uploads.video_status(self.client, self.account_key, row.platform_id)
            if status in READY_VIDEO_STATES:
                return status
            waited = (timezone.now() - row.attempted_at).total_seconds() if row.attempted_at else 0
            if waited > settings.META_VIDEO_MAX_WAIT_SECONDS:
                raise MetaError(
                    message=(
                        f"Meta had not processed the video {waited / 60:.0f} minutes after it was "
                        f"handed over (status {status or 'processing'}); send another video, or "
                        "retry the job once Meta has processed it."
                    ),
                    kind=ErrorKind.PERMANENT,
                    step="video",
                )
            # Polled by rescheduling, never by sleeping in a worker.
            return Wait(status, settings.META_VIDEO_POLL_SECONDS, f"video {status or 'processing'}")
        if step.kind in (CHANGE, STATUS_READ):
            method, path, graph_params = changes.graph_request(step)
            answer = self.call(
                step.key,
                lambda: self.client.api.call(method, (path,), params=graph_params),
                check_pause=False,
            )
            return changes.graph_answer(step, answer.json())
        create = {
            CAMPAIGN: self.fb_account.create_campaign,
            AD_SET: self.fb_account.create_ad_set,
            CREATIVE: self.fb_account.create_ad_creative,
            AD: self.fb_account.create_ad,
        }[step.kind]
        graph_params = self._params(step, lambda parent: str(parent.platform_id))
        # The engine found the account unpaused just before sending the step.
        created = self.call(step.key, lambda: create(params=graph_params), check_pause=False)
        return str(created["id"])

    def _params(self, step: Step, ref: Callable[[Any], str]) -> dict[str, Any]:
        """What Meta is sent to create the step's object; `ref(row)` names a parent."""
        row = step.row
        if step.kind == CAMPAIGN:
            return params.campaign_params(row, self.label)
        if step.kind == AD_SET:
            return params.ad_set_params(row, ref(row.campaign), self.label)
        if step.kind == CREATIVE:
            return self._creative_params(row, self.label)
        return params.ad_params(row, ref(row.ad_set), ref(row.creative), self.label)

    @cached_property
    def _creative_params(self) -> params.CreativeParams:
        # The plan's assets themselves (updated in place as they upload), so never stale.
        assert self.rows is not None
        media = {m.pk: m for m in self.rows.media}
        return params.CreativeParams(
            media, lambda video_id: uploads.video_thumbnail(self.client, self.account_key, video_id)
        )

    # --- several steps -------------------------------------------------------------------

    def _upload_images(self, steps: Sequence[Step]) -> list[Any]:
        results = uploads.upload_images(
            self.client.account_id,
            self._credentials,
            self.account_key,
            [step.row.source_url for step in steps],
        )
        if all(isinstance(result, NotSent) for result in results):
            raise results[0]
        outcomes: list[Any] = []
        for result in results:
            if isinstance(result, MetaError):
                outcomes.append(failure_of(result))
            elif isinstance(result, MediaFetchError):
                outcomes.append(_media_failure(result))
            elif isinstance(result, NotSent):
                outcomes.append(NO_ANSWER)
            else:
                outcomes.append(result)
        return outcomes

    def _run_batch(self, steps: Sequence[Step]) -> list[Any]:
        operations = batch.encode(steps, self.client.account_id, self._params)
        body = json.dumps([op.as_request() for op in operations], separators=(",", ":"))
        try:
            response = self.call(
                "batch",
                lambda: self.client.api.call(
                    "POST", (), params={"batch": body, "include_headers": "false"}
                ),
                check_pause=False,
            )
        except MetaError as error:
            if error.kind is ErrorKind.PERMANENT and not error.ambiguous:
                # The batch itself was refused (a 4xx on the whole request): none of its
                # operations ran (a Graph endpoint without batch support: a proxy, a fake).
                assert self.group_scope is not None
                raise GroupRefused(failure_of(error), self.group_scope) from None
            raise
        outcomes = batch.read_answers(operations, response.json(), self.client.secrets)
        if outcomes is None:
            raise MetaError(
                message="Meta's batch answer did not match the request.",
                kind=ErrorKind.TRANSIENT,
                step="batch",
                ambiguous=True,
            )
        return [
            changes.read_outcome(step, o)
            if step.kind == STATUS_READ
            else changes.budget_refusal(step, failure_of(o))
            if isinstance(o, MetaError)
            else o
            for step, o in zip(steps, outcomes, strict=True)
        ]

    # --- where a lost create would be found ------------------------------------------------

    def _find_labelled(self, step: Step) -> list[str]:
        """Objects a lost create made: same name, under the same parent, carrying this job's
        label. An object without the label is never the job's, whatever its name (an
        advertiser's own "Spring sale" campaign must not become the job's)."""
        row = step.row
        lookup = {
            CAMPAIGN: lambda p: self.fb_account.get_campaigns(fields=_LOOKUP_FIELDS, params=p),
            CREATIVE: lambda p: self.fb_account.get_ad_creatives(fields=_LOOKUP_FIELDS, params=p),
            AD_SET: lambda p: FbCampaign(row.campaign.platform_id, api=self.client.api).get_ad_sets(
                fields=_LOOKUP_FIELDS, params=p
            ),
            AD: lambda p: FbAdSet(row.ad_set.platform_id, api=self.client.api).get_ads(
                fields=_LOOKUP_FIELDS, params=p
            ),
        }[step.kind]
        query = {
            "filtering": [{"field": "name", "operator": "EQUAL", "value": row.name}],
            "limit": 100,
        }
        found = self.call(f"{step.key} (lookup)", lambda: list(lookup(query)))
        candidates = []
        for obj in found:
            data = obj.export_all_data() if hasattr(obj, "export_all_data") else dict(obj)
            labels = {(label or {}).get("name") for label in data.get("adlabels") or ()}
            if data.get("name") == row.name and self.label in labels:
                candidates.append(str(data["id"]))
        return sorted(candidates, key=lambda c: (len(c), c))
