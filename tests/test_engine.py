"""The job engine's rules, proven apart from Meta's: a small platform written here (the
"ledger"), with its own adapter, runs real jobs on PostgreSQL through the real claim, lease,
checkpoints and outcome.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from adaccounts.models import AdAccount, AdAccountStatus
from adaccounts.services import ad_account_update
from campaigns import services, sweeps
from campaigns.engine import outcome as runner_outcome
from campaigns.engine import pauses, runner
from campaigns.engine.adapter import Failure, FailureKind, GroupRefused, NotSent, job_label
from campaigns.engine.claims import job_claim
from campaigns.engine.runner import execute_job
from campaigns.engine.steps import NO_ANSWER, CreateStep, Plan, Step
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative, JobStatus
from tests.factories import AdAccountFactory, CampaignJobFactory
from tests.test_credentials_encryption import fernet_keys

pytestmark = pytest.mark.django_db


@dataclass
class Ledger:
    """A platform: objects by ID, each with the marker of the job that made it."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every request that left, as the keys of its steps.
    requests: list[list[str]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    # What the ledger does to a step, by key: "refuse" (a permanent error), "lose" (makes the
    # object, the answer is lost), "transient" (an error, nothing made), "token" (dead token).
    script: dict[str, str] = field(default_factory=dict)
    # Refuses requests of several steps (an endpoint without batches), per scope.
    refuses_groups: set[str] = field(default_factory=set)
    # Called as a request leaves (a crash, a credential change meanwhile, ...).
    on_send: Callable[[list[str]], None] | None = None
    ids: Any = field(default_factory=lambda: itertools.count(1000))

    def create(self, step: Step, marker: str) -> Any:
        action = self.script.get(step.key)
        if action == "refuse":
            return Failure(FailureKind.PERMANENT, "Refused by the ledger.", step=step.key)
        if action == "transient":
            return Failure(FailureKind.TRANSIENT, "The ledger is busy.", step=step.key)
        if action == "token":
            return Failure(FailureKind.TOKEN, "The token is dead.", step=step.key)
        object_id = str(next(self.ids))
        self.objects[object_id] = {"name": step.row.name, "marker": marker, "kind": step.kind}
        if action == "lose":
            del self.script[step.key]  # lost once
            return Failure(
                FailureKind.TRANSIENT, "Connection reset.", step=step.key, ambiguous=True
            )
        return object_id

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o["kind"] == kind]


class LedgerSession:
    def __init__(self, ledger: Ledger, job: CampaignJob, groups: bool) -> None:
        self.ledger = ledger
        self.job = job
        self.marker = job_label(job)
        self.group_scope = f"ledger {job.ad_account.platform_account_id}" if groups else None
        self.unanswered_wait = 0.0

    def load_plan(self) -> Plan:
        campaign = Campaign.objects.get(job=self.job)
        ad_sets = list(AdSet.objects.filter(campaign=campaign).order_by("position"))
        ads = list(Ad.objects.filter(ad_set__campaign=campaign).order_by("ad_set", "position"))
        campaign_step = CreateStep("campaign", "campaign", campaign)
        set_steps = {
            s.pk: CreateStep(f"ad_sets.{s.position}", "ad_set", s, [campaign_step]) for s in ad_sets
        }
        creative_steps: dict[Any, Step] = {}
        for ad in ads:
            if ad.creative_id not in creative_steps:
                creative_steps[ad.creative_id] = CreateStep(
                    f"creative {ad.creative_id}",
                    "creative",
                    Creative.objects.get(pk=ad.creative_id),
                    [campaign_step, set_steps[ad.ad_set_id]],
                )
        ad_steps = [
            CreateStep(
                f"ad_sets.{set_steps[ad.ad_set_id].row.position}.ads.{ad.position}",
                "ad",
                ad,
                [set_steps[ad.ad_set_id], creative_steps[ad.creative_id]],
            )
            for ad in ads
        ]
        steps = [campaign_step, *set_steps.values(), *creative_steps.values(), *ad_steps]
        return Plan(steps=steps, root=campaign_step)

    def compose(self, candidates: Sequence[Step]) -> list[Step]:
        return list(candidates)

    def run(self, steps: Sequence[Step]) -> list[Any]:
        if self.ledger.on_send:
            self.ledger.on_send([s.key for s in steps])
        if len(steps) > 1 and self.group_scope in self.ledger.refuses_groups:
            refusal = Failure(FailureKind.PERMANENT, "No batches here.")
            raise GroupRefused(refusal, self.group_scope)
        self.ledger.requests.append([s.key for s in steps])
        outcomes: list[Any] = []
        failed: set[int] = set()
        for step in steps:
            # Like a Graph batch: a step that needs a failed one is not run.
            if any(id(need) in failed for need in step.needs):
                failed.add(id(step))
                outcomes.append(NO_ANSWER)
                continue
            outcome = self.ledger.create(step, self.marker)
            if isinstance(outcome, Failure):
                failed.add(id(step))
            outcomes.append(outcome)
        if len(steps) == 1 and isinstance(outcomes[0], Failure):
            raise outcomes[0]
        return outcomes

    def find(self, step: Step) -> list[str]:
        self.ledger.lookups.append(step.key)
        return [
            object_id
            for object_id, obj in self.ledger.objects.items()
            if obj["marker"] == self.marker and obj["name"] == step.row.name
        ]

    def classify(self, exc: BaseException) -> Failure | None:
        return exc if isinstance(exc, Failure) else None

    def scrub(self, text: str) -> str:
        return text.replace("ledger-secret", "[redacted]")


@dataclass
class LedgerAdapter:
    ledger: Ledger
    groups: bool = True
    opened: int = 0

    def open(self, *, job, account, credentials, before_send) -> LedgerSession:
        self.opened += 1
        return LedgerSession(self.ledger, job, self.groups)


def make_job(account: AdAccount | None = None, *, ad_sets: int = 1, ads: int = 1) -> CampaignJob:
    job = CampaignJobFactory(**({"ad_account": account} if account else {}))
    campaign = Campaign.objects.create(job=job, ad_account=job.ad_account, name="Spring sale")
    for s in range(ad_sets):
        ad_set = AdSet.objects.create(campaign=campaign, job=job, position=s, name=f"Set {s}")
        for a in range(ads):
            creative = Creative.objects.create(
                job=job, ad_account=job.ad_account, name=f"Creative {s}.{a}"
            )
            Ad.objects.create(
                ad_set=ad_set, job=job, creative=creative, position=a, name=f"Ad {s}.{a}"
            )
    return job


def run_once(job: CampaignJob, adapter: LedgerAdapter) -> CampaignJob:
    """Make the job due, claim it and run it, as a worker would."""
    CampaignJob.objects.filter(pk=job.pk).update(next_attempt_at=None)
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None, "the job should be claimable"
    execute_job(claimed, adapter)
    job.refresh_from_db()
    return job


def rows(job: CampaignJob) -> list[Any]:
    campaign = Campaign.objects.get(job=job)
    return [
        campaign,
        *AdSet.objects.filter(campaign=campaign).order_by("position"),
        *Creative.objects.filter(job=job).order_by("name"),
        *Ad.objects.filter(ad_set__campaign=campaign).order_by("name"),
    ]


@pytest.fixture(autouse=True)
def _fresh_engine_state(monkeypatch):
    monkeypatch.setattr(runner, "_refused_scopes", {})


# --- the happy paths -------------------------------------------------------------------------


def test_a_job_runs_every_step_in_one_request_when_the_platform_groups_them():
    ledger = Ledger()
    job = run_once(make_job(ad_sets=2, ads=2), LedgerAdapter(ledger))

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(ledger.requests) == 1 and len(ledger.requests[0]) == 1 + 2 + 4 + 4
    assert all(row.platform_id for row in rows(job))
    assert job.platform_campaign_id == Campaign.objects.get(job=job).platform_id


def test_without_groups_each_step_is_one_request_in_dependency_order():
    ledger = Ledger()
    job = run_once(make_job(ad_sets=1, ads=2), LedgerAdapter(ledger, groups=False))

    assert job.status == JobStatus.SUCCESS, job.error
    assert ledger.requests == [
        ["campaign"],
        ["ad_sets.0"],
        [f"creative {Ad.objects.get(name='Ad 0.0').creative_id}"],
        [f"creative {Ad.objects.get(name='Ad 0.1').creative_id}"],
        ["ad_sets.0.ads.0"],
        ["ad_sets.0.ads.1"],
    ]


def test_a_plan_whose_step_comes_before_what_it_needs_is_refused():
    job = make_job()
    campaign = CreateStep("campaign", "campaign", Campaign.objects.get(job=job))
    ad_set = CreateStep("ad_sets.0", "ad_set", AdSet.objects.get(), [campaign])
    with pytest.raises(ValueError, match="needs campaign"):
        Plan(steps=[ad_set, campaign])


# --- hole 1: attempts are capped on every path -------------------------------------------------


def test_a_run_that_crashes_every_time_ends_failed_naming_the_crash(settings, caplog):
    settings.JOB_MAX_ATTEMPTS = 3
    ledger = Ledger()

    def crash(keys: list[str]) -> None:
        raise ZeroDivisionError("division by zero in ledger-secret with factory-token")

    ledger.on_send = crash
    job = make_job()
    for attempt in range(1, 4):
        job = run_once(job, LedgerAdapter(ledger))
        assert job.attempts == attempt
    # The crash came while the campaign's create was being sent: it may have left. One more
    # run looks for it (outcome.LOOKUP_RUNS), sends nothing, and ends the job.
    assert job.status == JobStatus.PENDING
    looked_up = len(ledger.lookups)
    job = run_once(job, LedgerAdapter(ledger))
    assert (job.status, job.attempts) == (JobStatus.FAILED, 4)
    assert ledger.lookups[looked_up:] == ["campaign"]
    assert "ZeroDivisionError: division by zero" in job.error["message"]
    # Neither the platform's secrets nor the account's token, stored or logged.
    assert "ledger-secret" not in str(job.error) and "factory-token" not in str(job.error)
    assert "ZeroDivisionError" in caplog.text and "Traceback" in caplog.text
    assert "ledger-secret" not in caplog.text and "factory-token" not in caplog.text
    assert job.error["step"] == "campaign"

    # A retry is a fresh budget; `attempts` goes on counting every run.
    job = services.job_retry(job=job)
    assert (job.status, job.attempts_left) == (JobStatus.PENDING, 3)
    for attempt in range(5, 7):
        job = run_once(job, LedgerAdapter(ledger))
        assert (job.status, job.attempts) == (JobStatus.PENDING, attempt)
    ledger.on_send = None
    job = run_once(job, LedgerAdapter(ledger))
    assert (job.status, job.attempts) == (JobStatus.SUCCESS, 7)


def test_credentials_that_no_key_decrypts_end_the_job_failed_naming_the_cause(settings):
    settings.JOB_MAX_ATTEMPTS = 2
    with fernet_keys("the old key"):
        job = make_job(AdAccountFactory())
    adapter = LedgerAdapter(Ledger())
    # A key rotation dropped the key the account's credentials were encrypted with.
    with fernet_keys("the new key"):
        job = run_once(job, adapter)
        assert job.status == JobStatus.PENDING
        job = run_once(job, adapter)

    assert job.status == JobStatus.FAILED
    assert job.error["step"] == "credentials"
    assert "InvalidToken" in job.error["message"] and "FERNET_KEYS" in job.error["message"]
    assert adapter.opened == 0


def test_a_job_whose_worker_dies_on_every_attempt_ends_failed(settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = make_job()
    for _ in range(2):
        CampaignJob.objects.filter(pk=job.pk).update(next_attempt_at=None)
        assert job_claim(job_id=job.pk) is not None
        # The worker dies mid-run: its lease expires and the sweeper finds it.
        CampaignJob.objects.filter(pk=job.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        sweeps.jobs_requeue_stuck()
    job.refresh_from_db()

    assert job.status == JobStatus.FAILED
    assert job.error["step"] == "worker"
    assert "attempt 2 of 2" in job.error["message"]
    assert job.finished_at is not None


def test_transient_failures_back_off_until_the_cap(settings):
    settings.JOB_MAX_ATTEMPTS = 2
    ledger = Ledger(script={"campaign": "transient"})
    job = run_once(make_job(), LedgerAdapter(ledger))
    assert job.status == JobStatus.PENDING and job.next_attempt_at > timezone.now()
    job = run_once(job, LedgerAdapter(ledger))
    assert job.status == JobStatus.FAILED
    assert job.error["message"] == "The ledger is busy." and job.error["transient"] is True


# --- adoption after a lost answer --------------------------------------------------------------


def test_a_lost_answer_is_adopted_not_made_twice():
    ledger = Ledger(script={"ad_sets.0": "lose"})
    adapter = LedgerAdapter(ledger, groups=False)
    job = run_once(make_job(), adapter)
    assert job.status == JobStatus.PENDING
    assert AdSet.objects.get().attempted_at is not None

    job = run_once(job, adapter)

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(ledger.of_kind("ad_set")) == 1
    assert ledger.lookups == ["ad_sets.0"]
    assert AdSet.objects.get().platform_id in ledger.objects


def test_an_object_another_row_of_the_job_recorded_is_not_adopted_twice():
    ledger = Ledger(script={"ad_sets.1": "lose"})
    adapter = LedgerAdapter(ledger, groups=False)
    job = make_job(ad_sets=2, ads=1)
    AdSet.objects.filter(position=1).update(name="Set 0")  # two ad sets of one name
    job = run_once(job, adapter)
    assert job.status == JobStatus.PENDING

    job = run_once(job, adapter)

    assert job.status == JobStatus.SUCCESS, job.error
    first, second = AdSet.objects.order_by("position")
    assert len(ledger.of_kind("ad_set")) == 2
    assert {first.platform_id, second.platform_id} == set(
        k for k, v in ledger.objects.items() if v["kind"] == "ad_set"
    )


# --- hole 3: a dead token concerns only the credentials that run used -------------------------


def test_a_dead_token_marks_the_account_for_re_authentication():
    ledger = Ledger(script={"campaign": "token"})
    job = run_once(make_job(), LedgerAdapter(ledger))

    assert job.status == JobStatus.FAILED
    assert AdAccount.objects.get(pk=job.ad_account_id).status == AdAccountStatus.REQUIRES_REAUTH


def test_a_slow_run_with_the_old_token_leaves_new_credentials_alone():
    ledger = Ledger(script={"campaign": "token"})
    job = make_job()
    account = AdAccount.objects.get(pk=job.ad_account_id)

    def new_credentials_meanwhile(keys: list[str]) -> None:
        ad_account_update(account=account, credentials={"access_token": "new-token"})

    ledger.on_send = new_credentials_meanwhile
    job = run_once(job, LedgerAdapter(ledger))

    assert AdAccount.objects.get(pk=account.pk).status == AdAccountStatus.ACTIVE
    # The answer was about the old token: the job runs again, with the new one.
    assert job.status == JobStatus.PENDING and job.error["message"] == "The token is dead."
    ledger.on_send = None
    del ledger.script["campaign"]
    assert run_once(job, LedgerAdapter(ledger)).status == JobStatus.SUCCESS


# --- hole 6: nothing is marked for a send deferred before it leaves ----------------------------


def test_a_paused_account_defers_the_job_before_anything_is_marked():
    ledger = Ledger()
    job = make_job()
    pauses.pause_account(job.ad_account_id, 30, reason="test")
    try:
        job = run_once(job, LedgerAdapter(ledger))
    finally:
        pauses.pause_account(job.ad_account_id, 0.001, reason="test over")
    assert job.status == JobStatus.PENDING and job.attempts == 0
    assert ledger.requests == []
    assert all(row.attempted_at is None for row in rows(job))


def test_a_send_the_adapter_stops_before_it_leaves_loses_its_marks():
    ledger = Ledger()

    def paused(keys: list[str]) -> None:
        raise NotSent(5, "account paused")

    ledger.on_send = paused
    job = run_once(make_job(), LedgerAdapter(ledger))
    assert job.status == JobStatus.PENDING and job.attempts == 0
    assert all(row.attempted_at is None for row in rows(job))

    ledger.on_send = None
    job = run_once(job, LedgerAdapter(ledger))
    assert job.status == JobStatus.SUCCESS
    assert ledger.lookups == []


# --- hole 7: a refused group switches only its scope to single steps ----------------------------


def test_a_refused_group_switches_only_that_scope_to_one_step_per_request():
    ledger = Ledger()
    refusing, other = AdAccountFactory(), AdAccountFactory()
    ledger.refuses_groups = {f"ledger {refusing.platform_account_id}"}

    first = run_once(make_job(refusing), LedgerAdapter(ledger))
    assert first.status == JobStatus.SUCCESS, first.error
    assert [len(r) for r in ledger.requests] == [1, 1, 1, 1]
    assert all(row.attempted_at is not None for row in rows(first))

    ledger.requests.clear()
    assert run_once(make_job(other), LedgerAdapter(ledger)).status == JobStatus.SUCCESS
    assert [len(r) for r in ledger.requests] == [4]


# --- hole 9: a rejected parent leaves nothing below it -------------------------------------------


@pytest.mark.parametrize("groups", [True, False])
def test_a_refused_campaign_leaves_nothing_and_the_job_failed(groups):
    ledger = Ledger(script={"campaign": "refuse"})
    job = run_once(make_job(ad_sets=2, ads=2), LedgerAdapter(ledger, groups=groups))

    assert job.status == JobStatus.FAILED
    assert job.error["step"] == "campaign"
    assert ledger.objects == {}
    # Known not to have run: nothing to look up when the job is retried.
    assert all(row.attempted_at is None for row in rows(job))


@pytest.mark.parametrize("groups", [True, False])
def test_a_refused_ad_set_leaves_nothing_of_its_ads(groups):
    ledger = Ledger(script={"ad_sets.1": "refuse"})
    job = run_once(make_job(ad_sets=2, ads=1), LedgerAdapter(ledger, groups=groups))

    assert job.status == JobStatus.PARTIAL_SUCCESS
    assert job.error["step"] == "ad_sets.1"
    second_set_creative = Ad.objects.get(name="Ad 1.0").creative
    assert second_set_creative.platform_id is None
    assert not [o for o in ledger.of_kind("creative") if o["name"] == second_set_creative.name]
    assert not [o for o in ledger.of_kind("ad") if o["name"] == "Ad 1.0"]


# --- hole 10: jobs of a deleted account are cancelled ------------------------------------------


def test_a_pending_job_of_a_deleted_account_is_cancelled_when_claimed():
    job = make_job()
    AdAccount.objects.filter(pk=job.ad_account_id).update(deleted_at=timezone.now())

    assert job_claim(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert "deleted" in job.error["message"]


def test_the_sweeper_cancels_waiting_jobs_of_deleted_accounts():
    job = make_job()
    AdAccount.objects.filter(pk=job.ad_account_id).update(
        deleted_at=timezone.now(), status=AdAccountStatus.REQUIRES_REAUTH
    )
    assert sweeps.jobs_cancel_of_deleted_account() == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None


def test_a_lookup_the_adapter_stops_before_it_leaves_defers_the_job_without_an_attempt(
    monkeypatch,
):
    ledger = Ledger(script={"campaign": "lose"})
    adapter = LedgerAdapter(ledger, groups=False)
    job = run_once(make_job(), adapter)
    assert job.status == JobStatus.PENDING and job.attempts == 1

    def paused(self, step):
        raise NotSent(5, "account paused")

    monkeypatch.setattr(LedgerSession, "find", paused)
    job = run_once(job, adapter)
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.error["message"] == "Connection reset."


def test_deleting_an_account_over_the_api_cancels_its_waiting_jobs(
    caller, django_capture_on_commit_callbacks
):
    account = AdAccountFactory(team=caller.team)
    waiting = make_job(account)

    with django_capture_on_commit_callbacks(execute=True):
        response = caller.client.delete(f"/api/v1/ad_accounts/{account.pk}")

    assert response.status_code == 204, response.content
    waiting.refresh_from_db()
    assert waiting.status == JobStatus.CANCELLED
    shown = caller.client.get(f"/api/v1/jobs/{waiting.pk}").json()
    assert shown["status"] == "CANCELLED"
    assert shown["error"]["message"] == "Cancelled: the job's ad account was deleted."


def test_a_step_left_unanswered_is_looked_up_in_a_later_run_not_at_once(monkeypatch):
    ledger = Ledger()
    adapter = LedgerAdapter(ledger)
    job = make_job(ad_sets=1, ads=1)
    original_run = LedgerSession.run

    def cut_short(self, steps):
        outcomes = original_run(self, steps)
        return [*outcomes[:-1], NO_ANSWER]  # the last operation's answer never came

    monkeypatch.setattr(LedgerSession, "run", cut_short)
    job = run_once(job, adapter)
    monkeypatch.setattr(LedgerSession, "run", original_run)
    assert job.status == JobStatus.PENDING
    assert job.error["transient"] is True and job.error["step"] == "ad_sets.0.ads.0"
    assert ledger.lookups == []
    assert Ad.objects.get().attempted_at is not None

    job = run_once(job, adapter)
    assert job.status == JobStatus.SUCCESS, job.error
    assert ledger.lookups == ["ad_sets.0.ads.0"]
    assert len(ledger.of_kind("ad")) == 1


def test_a_worker_that_dies_after_creating_something_leaves_the_job_partial(settings):
    settings.JOB_MAX_ATTEMPTS = 1
    job = make_job()
    assert job_claim(job_id=job.pk) is not None
    Campaign.objects.filter(job=job).update(platform_id="1000")
    CampaignJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeps.jobs_requeue_stuck()
    job.refresh_from_db()

    assert (job.status, job.platform_campaign_id) == (JobStatus.PARTIAL_SUCCESS, "1000")


# --- a lost answer on the last attempt ---------------------------------------------------------


def test_a_lost_answer_on_the_last_attempt_is_looked_up_before_the_job_ends(settings):
    # Ending the job at once would leave what the lost create made on the platform with no
    # row recording it: the job gets a lookup run first.
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger(script={"ad_sets.0": "lose"})
    adapter = LedgerAdapter(ledger, groups=False)
    job = run_once(make_job(), adapter)
    assert job.status == JobStatus.PENDING, job.error
    sent = list(ledger.requests)

    job = run_once(job, adapter)

    assert job.status == JobStatus.PARTIAL_SUCCESS
    assert job.error["message"] == "Connection reset." and job.attempts == 2
    assert len(ledger.of_kind("ad_set")) == 1
    assert AdSet.objects.get().platform_id in ledger.objects
    assert ledger.lookups == ["ad_sets.0"]
    assert ledger.requests == sent  # the lookup run sent nothing new
    assert not ledger.of_kind("ad")


def test_lookup_runs_are_capped_too(settings, monkeypatch):
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger(script={"campaign": "lose"})
    adapter = LedgerAdapter(ledger, groups=False)

    def busy(self, step):
        raise Failure(FailureKind.TRANSIENT, "The ledger is busy.", step=step.key)

    monkeypatch.setattr(LedgerSession, "find", busy)
    job = run_once(make_job(), adapter)
    for _ in range(runner_outcome.LOOKUP_RUNS):
        assert job.status == JobStatus.PENDING
        job = run_once(job, adapter)

    assert job.status == JobStatus.FAILED
    assert job.attempts == 1 + runner_outcome.LOOKUP_RUNS


def test_a_worker_killed_between_a_create_and_its_commit_on_the_last_attempt_gets_a_lookup_run(
    settings,
):
    # The sweeper applies the runner's rule: a create left unresolved earns a lookup run.
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger()
    job = make_job()
    assert job_claim(job_id=job.pk) is not None
    # The create left (its mark committed), Meta made the campaign, the worker died.
    Campaign.objects.filter(job=job).update(attempted_at=timezone.now())
    ledger.objects["1000"] = {"name": "Spring sale", "marker": job_label(job), "kind": "campaign"}
    CampaignJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeps.jobs_requeue_stuck()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING

    job = run_once(job, LedgerAdapter(ledger))

    assert (job.status, job.platform_campaign_id) == (JobStatus.PARTIAL_SUCCESS, "1000")
    assert Campaign.objects.get(job=job).platform_id == "1000"
    assert ledger.requests == []


def test_a_lookup_run_goes_on_after_a_failed_lookup_and_keeps_what_it_found(settings, monkeypatch):
    # A failed lookup must not keep the job's other lost creates from being looked at: each
    # lookup run goes through them all, and only what is still unresolved earns the next.
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger(script={"ad_sets.0": "lose", "ad_sets.1": "lose"})
    adapter = LedgerAdapter(ledger)  # one request: the campaign, both ad sets, the rest
    job = run_once(make_job(ad_sets=2), adapter)
    assert job.status == JobStatus.PENDING
    sent = list(ledger.requests)
    original_find = LedgerSession.find

    def first_fails(self, step):
        if step.key == "ad_sets.0":
            raise Failure(FailureKind.TRANSIENT, "The ledger is busy.", step=step.key)
        return original_find(self, step)

    monkeypatch.setattr(LedgerSession, "find", first_fails)
    job = run_once(job, adapter)
    assert job.status == JobStatus.PENDING  # another lookup run for ad_sets.0
    assert AdSet.objects.get(position=1).platform_id in ledger.objects
    assert not AdSet.objects.get(position=0).platform_id

    monkeypatch.setattr(LedgerSession, "find", original_find)
    job = run_once(job, adapter)
    assert job.status == JobStatus.PARTIAL_SUCCESS
    assert {s.platform_id for s in AdSet.objects.all()} == set(
        i for i, o in ledger.objects.items() if o["kind"] == "ad_set"
    )
    assert ledger.requests == sent


def test_a_lookup_run_that_finds_nothing_keeps_the_mark_and_a_retry_looks_before_creating(
    settings, monkeypatch
):
    # The platform's lists can lag behind a create: "not found" just after a lost answer
    # does not prove nothing was made, so the mark stays and a retry does not send blindly.
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger(script={"campaign": "lose"})
    adapter = LedgerAdapter(ledger, groups=False)
    job = run_once(make_job(), adapter)
    assert job.status == JobStatus.PENDING
    original_find = LedgerSession.find

    def lagging(self, step):
        self.ledger.lookups.append(step.key)
        return []

    monkeypatch.setattr(LedgerSession, "find", lagging)
    job = run_once(job, adapter)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert ledger.lookups == ["campaign"] and ledger.requests == [["campaign"]]
    assert Campaign.objects.get(job=job).attempted_at is not None

    monkeypatch.setattr(LedgerSession, "find", original_find)
    job = services.job_retry(job=job)
    job = run_once(job, adapter)

    assert job.status == JobStatus.SUCCESS, job.error
    assert ledger.lookups == ["campaign", "campaign"]
    assert len(ledger.of_kind("campaign")) == 1
    assert job.platform_campaign_id == Campaign.objects.get(job=job).platform_id
    assert ["campaign"] not in ledger.requests[1:]  # adopted, never sent again


def test_a_mark_whose_create_never_left_stays_and_the_retry_creates_after_looking(settings):
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger()
    job = make_job()
    assert job_claim(job_id=job.pk) is not None
    # The worker died with the campaign's create marked, before it left.
    Campaign.objects.filter(job=job).update(attempted_at=timezone.now())
    CampaignJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeps.jobs_requeue_stuck()

    job = run_once(job, LedgerAdapter(ledger))
    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert ledger.lookups == ["campaign"] and ledger.requests == []
    assert Campaign.objects.get(job=job).attempted_at is not None

    job = run_once(services.job_retry(job=job), LedgerAdapter(ledger))

    assert job.status == JobStatus.SUCCESS, job.error
    assert ledger.lookups == ["campaign", "campaign"]
    assert ledger.requests[0] == [
        "campaign",
        "ad_sets.0",
        f"creative {Ad.objects.get().creative_id}",
        "ad_sets.0.ads.0",
    ]
    assert len(ledger.of_kind("campaign")) == 1


def test_lookup_runs_that_find_nothing_for_one_create_and_fail_for_another_end_at_the_cap(
    settings, monkeypatch
):
    settings.JOB_MAX_ATTEMPTS = 1
    ledger = Ledger(script={"ad_sets.0": "lose", "ad_sets.1": "lose"})
    adapter = LedgerAdapter(ledger)
    job = run_once(make_job(ad_sets=2), adapter)
    assert job.status == JobStatus.PENDING

    def busy_or_lagging(self, step):
        self.ledger.lookups.append(step.key)
        if step.key == "ad_sets.0":
            raise Failure(FailureKind.TRANSIENT, "The ledger is busy.", step=step.key)
        return []

    monkeypatch.setattr(LedgerSession, "find", busy_or_lagging)
    for _ in range(runner_outcome.LOOKUP_RUNS):
        assert job.status == JobStatus.PENDING
        job = run_once(job, adapter)

    assert job.status == JobStatus.PARTIAL_SUCCESS  # the campaign exists
    assert job.attempts == 1 + runner_outcome.LOOKUP_RUNS
    assert ledger.lookups == ["ad_sets.0", "ad_sets.1"] * runner_outcome.LOOKUP_RUNS
    assert all(s.attempted_at is not None and not s.platform_id for s in AdSet.objects.all())
    assert len(ledger.requests) == 1


def test_a_worker_that_dies_during_a_lookup_run_ends_the_job_naming_the_lookup_run(settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job = make_job()
    Campaign.objects.filter(job=job).update(attempted_at=timezone.now())
    spent = settings.JOB_MAX_ATTEMPTS + runner_outcome.LOOKUP_RUNS - 1
    CampaignJob.objects.filter(pk=job.pk).update(attempts=spent)
    assert job_claim(job_id=job.pk) is not None  # the last lookup run
    CampaignJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeps.jobs_requeue_stuck()
    job.refresh_from_db()

    assert job.status == JobStatus.FAILED
    assert job.error["step"] == "worker"
    assert "during a lookup run, after its 2 attempts" in job.error["message"]
    assert f"attempt {spent + 1}" not in job.error["message"]


def test_a_create_marked_under_a_parent_never_made_earns_no_lookup_run(settings):
    # Under a parent that was never made nothing can have been made, nor looked up: the
    # sweeper ends such a job as the runner would, without a run that could do nothing.
    settings.JOB_MAX_ATTEMPTS = 1
    job = make_job()
    assert job_claim(job_id=job.pk) is not None
    Ad.objects.filter(job=job).update(attempted_at=timezone.now())
    CampaignJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeps.jobs_requeue_stuck()
    job.refresh_from_db()

    assert job.status == JobStatus.FAILED
    assert "attempt 1 of 1" in job.error["message"]


def test_a_lost_creative_that_no_ad_uses_yet_earns_a_lookup_run(settings):
    # A creative an UPDATE swaps in is made before any ad uses it: it has no parent to wait for.
    settings.JOB_MAX_ATTEMPTS = 1
    job = make_job()
    Campaign.objects.filter(job=job).update(platform_id="1000")
    Creative.objects.create(
        job=job, ad_account=job.ad_account, name="Swapped in", attempted_at=timezone.now()
    )
    assert job_claim(job_id=job.pk) is not None
    CampaignJob.objects.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sweeps.jobs_requeue_stuck()
    job.refresh_from_db()

    assert job.status == JobStatus.PENDING
