"""Submission jobs and the generic ad structure they plan.

The Campaign / AdSet / Creative / Ad rows are the plan and the checkpoints at once: a row whose
`platform_id` is set exists on the platform; the worker realises only rows without one. What a
single platform needs beyond these generic fields lives in that platform's detail tables.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from adaccounts.models import AdAccount, Team, TimeStampedModel
from platforms.base import PlatformType


class JobStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    SUCCESS = "SUCCESS", "Success"
    FAILED = "FAILED", "Failed"
    PARTIAL_SUCCESS = "PARTIAL_SUCCESS", "Partial success"
    CANCELLED = "CANCELLED", "Cancelled"


RETRYABLE_STATUSES = (JobStatus.FAILED, JobStatus.PARTIAL_SUCCESS)
UNFINISHED_STATUSES = (JobStatus.PENDING, JobStatus.PROCESSING)
# Where a run ends a job (CANCELLED is a client's doing, before any run).
FINISHED_STATUSES = (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.PARTIAL_SUCCESS)


class JobKind(models.TextChoices):
    """What a job does (API.md, "Jobs"); the engine runs every kind the same way."""

    CREATE = "CREATE", "Create"
    UPDATE = "UPDATE", "Update"
    ARCHIVE = "ARCHIVE", "Archive"
    IMPORT = "IMPORT", "Import"
    SYNC = "SYNC", "Sync"


# A live object's statuses mojito never changes from: it never brings an archived object back.
FINAL_STATUSES = ("ARCHIVED", "DELETED")


class ObjectType(models.TextChoices):
    """The live objects a job other than a submission works on (API.md: `object_type`)."""

    CAMPAIGN = "campaign", "Campaign"
    AD_SET = "ad_set", "Ad set"
    AD = "ad", "Ad"
    # A SYNC job of a whole account names the account.
    AD_ACCOUNT = "ad_account", "Ad account"


# API.md, "Live objects": what a PATCH of each object may change, on every platform (the
# platform's validator has the last word on the values).
CHANGE_FIELDS: dict[str, tuple[str, ...]] = {
    ObjectType.CAMPAIGN: (
        "name",
        "status",
        "daily_budget",
        "lifetime_budget",
        "spend_cap",
        "bid_strategy",
    ),
    ObjectType.AD_SET: (
        "name",
        "status",
        "daily_budget",
        "lifetime_budget",
        "bid_amount",
        "end_time",
        "targeting",
    ),
    ObjectType.AD: ("name", "status", "creative"),
}


class CampaignJob(TimeStampedModel):
    """One client request to create an ad structure, and its progress on the platform."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="jobs")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.PROTECT, related_name="jobs")
    platform_type = models.CharField(max_length=20, choices=PlatformType.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=10, choices=JobKind.choices, default=JobKind.CREATE)
    # The live object the job works on; empty for a submission, which brings its own.
    object_type = models.CharField(max_length=20, choices=ObjectType.choices, blank=True)
    object_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    # The request body exactly as accepted (after validation), for audit and re-planning.
    payload = models.JSONField()
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # SHA-256 of the canonical request body: same key with another body is a client error.
    request_hash = models.CharField(max_length=64, blank=True, default="")

    attempts = models.PositiveIntegerField(default=0)
    # `attempts` when the job was last retried by hand: a retry is a fresh budget of
    # JOB_MAX_ATTEMPTS, while `attempts` keeps counting every run.
    attempts_at_retry = models.PositiveIntegerField(default=0)
    # Retries are driven by this column, never by long broker countdowns.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A claimed job belongs to its worker until the lease expires without a heartbeat.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    # Last time the job id was handed to the broker; the sweeper re-publishes stale PENDING jobs.
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    platform_campaign_id = models.CharField(max_length=64, null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Where the client asked to be told of the job's end (API.md, "notifications"), besides
    # the team's webhook.
    callback_url = models.URLField(max_length=2048, blank=True, default="")

    class Meta:
        db_table = "campaign_jobs"
        ordering = ["-created_at"]
        constraints = [
            # Two concurrent requests with one key cannot both insert: the database decides.
            models.UniqueConstraint(
                fields=["team", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="uniq_job_idempotency_key_per_team",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status", "-created_at"], name="job_team_status_idx"),
            models.Index(fields=["ad_account", "status"], name="job_account_status_idx"),
            # The sweeper's scans: only unfinished jobs are ever looked at.
            models.Index(
                fields=["status", "published_at"],
                condition=Q(status__in=["PENDING", "PROCESSING"]),
                name="job_sweep_idx",
            ),
            # Jobs on one object run in the order they were accepted: the claim looks for an
            # earlier one still unfinished.
            models.Index(
                fields=["object_id", "created_at"],
                condition=Q(status__in=["PENDING", "PROCESSING"], object_id__isnull=False),
                name="job_object_unfinished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Job {self.id} ({self.status})"

    @property
    def attempts_left(self) -> int:
        return max(0, settings.JOB_MAX_ATTEMPTS - (self.attempts - self.attempts_at_retry))

    @property
    def attempts_shown(self) -> int:
        """`attempts` as clients see it: the runs past `JOB_MAX_ATTEMPTS` that only look up a
        create whose answer was lost (engine.outcome.LOOKUP_RUNS) send nothing, so they are
        not attempts; a job never shows more than its cap (since its last retry)."""
        return min(self.attempts, self.attempts_at_retry + settings.JOB_MAX_ATTEMPTS)


class PlannedObject(TimeStampedModel):
    """Fields every planned platform object has."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=400)
    status = models.CharField(max_length=20, default="PAUSED")
    # Empty until the object exists on the platform; then it is the checkpoint.
    platform_id = models.CharField(max_length=64, null=True, blank=True)
    # Committed just before the create call is sent. Set without a platform_id, it means a
    # create may have reached the platform unanswered (timeout, crash): look before creating.
    attempted_at = models.DateTimeField(null=True, blank=True)
    # What the platform says of the object (API.md "Live objects"), as last read from it.
    effective_status = models.CharField(max_length=40, blank=True, default="")
    review_feedback = models.JSONField(null=True, blank=True)
    # What the platform says stops or hampers delivery (Meta's `issues_info`), as last read.
    issues = models.JSONField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Campaign(PlannedObject):
    # The job that created or imported the campaign.
    job = models.OneToOneField(CampaignJob, on_delete=models.CASCADE, related_name="campaign")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.PROTECT, related_name="campaigns")

    class Meta:
        db_table = "campaigns"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["ad_account", "-created_at"], name="campaign_account_idx")]

    def __str__(self) -> str:
        return self.name


class AdSet(PlannedObject):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ad_sets")
    # The job that created it: the campaign's, or a later one that added it to the campaign.
    job = models.ForeignKey(CampaignJob, on_delete=models.CASCADE, related_name="ad_sets")
    position = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "ad_sets"
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="uniq_ad_set_position")
        ]

    def __str__(self) -> str:
        return self.name


class Creative(PlannedObject):
    """An ad creative; `platform_id` is preset when the client named an existing one."""

    job = models.ForeignKey(CampaignJob, on_delete=models.CASCADE, related_name="creatives")
    ad_account = models.ForeignKey(AdAccount, on_delete=models.PROTECT, related_name="creatives")
    is_existing = models.BooleanField(
        default=False, help_text="Named by the client by ID; mojito did not create it."
    )

    class Meta:
        db_table = "creatives"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name or str(self.platform_id)


class Ad(PlannedObject):
    ad_set = models.ForeignKey(AdSet, on_delete=models.CASCADE, related_name="ads")
    # The job that created it (see AdSet.job).
    job = models.ForeignKey(CampaignJob, on_delete=models.CASCADE, related_name="ads")
    creative = models.ForeignKey(Creative, on_delete=models.PROTECT, related_name="ads")
    position = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "ads"
        ordering = ["ad_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ad_set", "position"], name="uniq_ad_position")
        ]

    def __str__(self) -> str:
        return self.name


class ObjectChange(TimeStampedModel):
    """One change an UPDATE or ARCHIVE job makes to one live object: the checkpoint of that
    step. The object's own rows take the values only once the platform accepted them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(CampaignJob, on_delete=models.CASCADE, related_name="changes")
    position = models.PositiveIntegerField()
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    object_id = models.UUIDField()
    # The requested values, by the API's field names (a new creative by our id).
    values = models.JSONField()
    # The values they replaced, read when the platform accepted the change.
    previous = models.JSONField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "object_changes"
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="uniq_change_position")
        ]
        indexes = [
            # Meta's budget-change limit counts what an object changed in the last hour.
            models.Index(fields=["object_id", "applied_at"], name="change_object_applied_idx"),
        ]

    def __str__(self) -> str:
        return f"Change of {self.object_type} {self.object_id}"


class MediaKind(models.TextChoices):
    IMAGE = "IMAGE", "Image"
    VIDEO = "VIDEO", "Video"


class MediaAsset(TimeStampedModel):
    """An image or video a job uploads before its creatives; one row per distinct source URL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(CampaignJob, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(max_length=10, choices=MediaKind.choices)
    source_url = models.URLField(max_length=2048)
    # Image hash or video ID once uploaded: the checkpoint.
    platform_id = models.CharField(max_length=128, null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    # Platform-side processing state (videos encode after upload).
    platform_status = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        db_table = "media_assets"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "kind", "source_url"], name="uniq_job_media")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_url}"


class SyncRead(TimeStampedModel):
    """One read of a SYNC job (one object type's statuses, one level's delivery figures): the
    checkpoint of that read, done once what it read is stored. A read the platform prepares
    asynchronously (a report run) keeps the report's id and its last status here, so that a
    resumed job polls the same report instead of starting another."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(CampaignJob, on_delete=models.CASCADE, related_name="sync_reads")
    position = models.PositiveSmallIntegerField()
    # The platform's name for the read, e.g. "status:ad" or "insights:ad_set".
    name = models.CharField(max_length=40)
    report_id = models.CharField(max_length=64, null=True, blank=True)
    report_status = models.CharField(max_length=40, blank=True, default="")
    stored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sync_reads"
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="uniq_sync_read_position")
        ]

    def __str__(self) -> str:
        return f"{self.name} of job {self.job_id}"


class InsightDay(models.Model):
    """A live object's delivery figures for one day, the day in the ad account's time zone as
    the platform reports it. Each sync upserts the last few days: platforms restate them.

    Money (`spend`, `cpc`, `cpm`) is an integer in the currency's minor unit; `ctr` is kept
    as the platform sent it (a decimal string)."""

    id = models.BigAutoField(primary_key=True)
    ad_account = models.ForeignKey(AdAccount, on_delete=models.CASCADE, related_name="insights")
    # The tree the object belongs to: the insights endpoint reads one campaign's rows.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="insights")
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    object_id = models.UUIDField()
    platform_id = models.CharField(max_length=64)
    date = models.DateField()
    spend = models.BigIntegerField(default=0)
    impressions = models.BigIntegerField(default=0)
    reach = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    ctr = models.CharField(max_length=32, blank=True, default="")
    cpc = models.BigIntegerField(null=True, blank=True)
    cpm = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    synced_at = models.DateTimeField()

    class Meta:
        db_table = "insights_daily"
        ordering = ["date", "object_type"]
        constraints = [
            models.UniqueConstraint(fields=["object_id", "date"], name="uniq_insight_object_day")
        ]
        indexes = [
            models.Index(fields=["campaign", "object_type", "date"], name="insight_campaign_idx")
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.platform_id} on {self.date}"
