"""One run of one claimed job: realise its plan's steps on the platform, checkpoint by checkpoint.

The loop, until every step is done, one fails, or the run must wait:
1. Look up what a lost send may have made: a step marked without a result, whose needs are
   done, is first looked for on the platform (by the job's marker) and adopted if found.
2. Choose the next request: the first step whose needs are done, or, when the adapter groups
   steps, the group it composes.
3. Unless the account is paused, mark every step of it (committed before it leaves), send it,
   and record each step's outcome the moment it is known: a result, a value to wait on, a
   failure, or no answer. A step known not to have run loses its mark, so a resumed job
   makes no needless lookups.

No database transaction is open while a request is out; every checkpoint write holds only
while this run still holds the job, and the lease is extended before every request leaves.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from adaccounts.models import AdAccount
from campaigns.engine import pauses
from campaigns.engine.adapter import (
    Failure,
    FailureKind,
    GroupRefused,
    LeaseLost,
    NotSent,
    PlatformAdapter,
    PlatformSession,
    job_error,
)
from campaigns.engine.checkpoints import (
    RowChanges,
    job_heartbeat,
    job_store_rows,
    job_update_rows,
)
from campaigns.engine.outcome import (
    job_fail,
    job_reschedule,
    job_settle,
    job_succeed,
    past_cap,
)
from campaigns.engine.steps import NO_ANSWER, ChangeStep, Plan, Step, Wait
from campaigns.models import CampaignJob

logger = logging.getLogger(__name__)

# How long a request of several steps that a scope refused keeps that scope on one step per
# request (an endpoint may gain batch support, e.g. a proxy fixed). Per process.
GROUP_REFUSAL_SECONDS = 3600.0
# A crash's stored message is cut here (its log line keeps the whole traceback).
MAX_MESSAGE = 2000
_refused_scopes: dict[str, float] = {}


class AttemptsSpent(Exception):
    """A lookup run (past JOB_MAX_ATTEMPTS) has recorded what lost answers made: end the job."""


class Deferred(Exception):
    """Stop this run without failing: run again in `seconds`, attempt refunded."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


def _groups_refused(scope: str | None) -> bool:
    if scope is None:
        return True
    until = _refused_scopes.get(scope)
    return until is not None and until > time.monotonic()


def _decrypted_credentials(account: AdAccount) -> dict[str, str]:
    """The account's credentials, decrypted now: the claim hands them over sealed."""
    sealed = account.__dict__.pop("sealed_credentials", None)
    if sealed is None:
        return account.credentials
    field = account._meta.get_field("credentials")
    return field.from_db_value(sealed, None, connection)


class JobRun:
    def __init__(self, job: CampaignJob, adapter: PlatformAdapter) -> None:
        self.job = job
        self.account = job.ad_account
        self.adapter = adapter
        # Which credentials this run uses: a dead-token answer concerns only them.
        self.credentials_version: int | None = getattr(self.account, "credentials_version", None)
        self.session: PlatformSession | None = None
        self.plan: Plan | None = None
        # Decrypted credential values, scrubbed from whatever a crash leaves behind.
        self._secrets: list[str] = []
        # The step being sent, named in the error of a crash.
        self._current: str = ""
        # The claim just set the lease.
        self._last_heartbeat = time.monotonic()

    # --- the run's outcome ---------------------------------------------------------------

    def execute(self) -> None:
        """Run to an outcome: SUCCESS, FAILED, PARTIAL_SUCCESS or rescheduled. Never raises
        for the job's own failures, crashes of the run included, so every path counts
        against `JOB_MAX_ATTEMPTS`."""
        job = self.job
        try:
            self._run()
        except LeaseLost:
            logger.warning("Job %s: lease lost mid-run; another worker owns it now", job.pk)
            return
        except (Deferred, NotSent) as wait:
            # NotSent outside a send: a lookup or a parameter's own read found the account
            # paused; nothing was marked for it.
            logger.info("Job %s deferred %.1f s: %s", job.pk, wait.seconds, wait.reason)
            job_reschedule(
                job=job,
                delay=wait.seconds,
                error=job.error,
                count_attempt=False,
                platform_campaign_id=self._root_id(),
            )
            return
        except AttemptsSpent:
            job_fail(
                job=job,
                error=job.error or job_error("No attempt is left.", step=self._current or "lookup"),
                partial=bool(self.plan and self.plan.something_created()),
                platform_campaign_id=self._root_id(),
            )
            return
        except Failure as failure:
            self._settle(failure)
            return
        except Exception as exc:  # a bug, a database error: counted like any failure
            self._settle(self._crash(exc))
            return
        job_succeed(job=job, platform_campaign_id=self._root_id())

    def _settle(self, failure: Failure) -> None:
        job_settle(
            job=self.job,
            account=self.account,
            failure=failure,
            partial=bool(self.plan and self.plan.something_created()),
            platform_campaign_id=self._root_id(),
            credentials_version=self.credentials_version,
        )

    def _root_id(self) -> str | None:
        root = self.plan.root if self.plan else None
        if root is None:
            return None
        return getattr(root.row, root.result_field) or None

    def _crash(self, exc: Exception) -> Failure:
        if self.session is not None:
            known = self.session.classify(exc)
            if known is not None:
                return known
        message = self._scrub(f"{type(exc).__name__}: {exc}")[:MAX_MESSAGE]
        logger.error(
            "Job %s: run crashed at %s: %s",
            self.job.pk,
            self._current or "start",
            self._scrub("".join(traceback.format_exception(exc))),
        )
        return Failure(FailureKind.TRANSIENT, f"Internal error: {message}", step=self._current)

    def _scrub(self, text: str) -> str:
        """`text` without the run's credentials, nor any secret the platform's session holds."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return self.session.scrub(text) if self.session is not None else text

    # --- plumbing ------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Extend the lease, at most ten times per lease period: every checkpoint write is
        already conditional on holding the job, so this only has to keep the lease alive."""
        now = time.monotonic()
        if now - self._last_heartbeat < settings.JOB_LEASE_SECONDS / 10:
            return
        if not job_heartbeat(job=self.job):
            raise LeaseLost()
        self._last_heartbeat = now

    def _write(
        self,
        changes: dict[type, RowChanges],
        stores: Sequence[Any] = (),
        inserts: Sequence[Any] = (),
    ) -> None:
        if stores:
            written = job_store_rows(self.job, changes, stores, inserts)
        else:
            written = job_update_rows(self.job, changes, inserts)
        if not written:
            raise LeaseLost()

    @staticmethod
    def _add(changes: dict[type, RowChanges], row: Any, fields: dict[str, Any]) -> None:
        # Merged: two steps of one request may write one row (a change, then a read of it).
        if fields:
            changes.setdefault(type(row), {}).setdefault(row.pk, {}).update(fields)

    def _add_result(self, changes: dict[type, RowChanges], step: Step, result: Any) -> None:
        self._add(changes, step.row, step.record(result))
        for row, fields in step.also(result):
            self._add(changes, row, fields)

    # --- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            credentials = _decrypted_credentials(self.account)
        except Exception as exc:
            # E.g. a key rotation that dropped the key these were encrypted with.
            raise Failure(
                FailureKind.TRANSIENT,
                f"The account's credentials could not be decrypted ({type(exc).__name__}); "
                "check that FERNET_KEYS still lists the key they were encrypted with.",
                step="credentials",
            ) from None
        self._secrets = sorted(
            (v for v in credentials.values() if isinstance(v, str) and v), key=len, reverse=True
        )
        self.session = session = self.adapter.open(
            job=self.job, account=self.account, credentials=credentials, before_send=self.heartbeat
        )
        self.plan = plan = session.load_plan()
        if past_cap(self.job):
            # Its attempts are spent; it runs again only because a lost answer may have made
            # something (outcome.LOOKUP_RUNS): look, record, send nothing new.
            self._reconcile(last=True)
            raise AttemptsSpent()
        waiting: dict[int, Wait] = {}
        # Each round settles at least one step (or waits on it), so the plan bounds them.
        for _ in range(2 * len(plan) + 2):
            self._reconcile()
            candidates = self._candidates(waiting)
            if not candidates:
                break
            if _groups_refused(session.group_scope):
                group = [candidates[0]]
            else:
                group = self._checked(session.compose(candidates), candidates)
            try:
                failure = self._send(group, waiting)
            except GroupRefused as refused:
                _refused_scopes[refused.scope] = time.monotonic() + GROUP_REFUSAL_SECONDS
                logger.warning(
                    "%s refused a request of several steps (%s); one step per request",
                    refused.scope,
                    refused.failure.message,
                )
                continue
            if failure is not None:
                raise failure
        else:
            raise Failure(
                FailureKind.TRANSIENT, "The plan did not complete in the expected number of rounds."
            )
        if waiting:
            reasons = sorted({wait.reason for wait in waiting.values()})
            raise Deferred(min(wait.seconds for wait in waiting.values()), "; ".join(reasons))

    def _candidates(self, waiting: dict[int, Wait]) -> list[Step]:
        """Steps not done whose needs are done or candidates themselves, in plan order."""
        assert self.plan is not None
        runnable: set[int] = set()
        found = []
        for step in self.plan:
            if step.done or id(step) in waiting:
                continue
            if all(need.done or id(need) in runnable for need in step.needs):
                runnable.add(id(step))
                found.append(step)
        return found

    @staticmethod
    def _checked(group: list[Step], candidates: Sequence[Step]) -> list[Step]:
        """The adapter's group, refused if it would send a step before one it needs."""
        allowed = {id(step) for step in candidates}
        sent: set[int] = set()
        for step in group:
            if id(step) not in allowed or any(
                not need.done and id(need) not in sent for need in step.needs
            ):
                raise RuntimeError(f"The adapter composed {step.key} out of order.")
            sent.add(id(step))
        if not group:
            raise RuntimeError("The adapter composed an empty request.")
        return group

    def _reconcile(self, *, last: bool = False) -> None:
        """Adopt what lost sends may have made, before sending them again. In plan order, so
        a parent adopted here lets its children be looked up under it at once.

        `last`: a lookup run (past the job's attempts), which sends nothing after it. A failed
        lookup does not stop the others (each one settled is settled for good; the first
        failure is raised at the end, and earns the next lookup run). A lookup that finds
        nothing leaves the mark as it is: the platform's lists may not show an object yet
        seconds after its create, so "not found" does not prove that the lost send made
        nothing. A lookup run sends nothing, so the mark stays, and the job's next run (a
        retry) looks for the object again before it sends the create."""
        assert self.session is not None and self.plan is not None
        failed: Failure | None = None
        for step in self.plan:
            if step.repeatable or not step.marked or not all(n.done for n in step.needs):
                continue
            self._current = step.key
            model = type(step.row)
            # Another run may have recorded it meanwhile (the sweeper gave the job away and
            # back): take that.
            current = model.objects.filter(pk=step.row.pk).values(*step.checkpoint_fields).first()
            for name, value in (current or {}).items():
                setattr(step.row, name, value)
            if step.done:
                continue
            try:
                found = self.session.find(step)
            except Failure as failure:
                if not last:
                    raise
                failed = failed or failure
                continue
            taken = set(
                model.objects.filter(**{f"{step.result_field}__in": found})
                .exclude(pk=step.row.pk)
                .values_list(step.result_field, flat=True)
            )
            fresh = [object_id for object_id in found if object_id not in taken]
            if fresh:
                logger.warning(
                    "Job %s: adopting %s %s after a lost answer", self.job.pk, step.key, fresh[0]
                )
                changes: dict[type, RowChanges] = {}
                self._add_result(changes, step, fresh[0])
                self._write(changes)
            self.heartbeat()
        if failed is not None:
            raise failed

    def _send(self, group: list[Step], waiting: dict[int, Wait]) -> Failure | None:
        """Mark, send, record. Returns the group's first failure, if any."""
        assert self.session is not None
        self._current = group[0].key
        paused = pauses.paused_for(self.account.pk)
        if paused:
            raise Deferred(paused, "account paused")
        now = timezone.now()
        marks: dict[type, RowChanges] = {}
        for step in group:
            if not step.repeatable:
                self._add(marks, step.row, step.mark(now))
        self._write(marks)
        self.heartbeat()
        try:
            outcomes = self.session.run(group)
        except NotSent as wait:
            self._unmark(group)
            raise Deferred(wait.seconds, wait.reason) from None
        except GroupRefused:
            self._unmark(group)
            raise
        except Failure as failure:
            if not failure.ambiguous:
                self._unmark(group)
            raise
        if len(outcomes) != len(group):
            raise Failure(
                FailureKind.TRANSIENT,
                "The platform's answer did not match the request.",
                step=group[0].key,
                ambiguous=True,
            )
        return self._record(group, outcomes, waiting)

    def _unmark(self, steps: Sequence[Step]) -> None:
        changes: dict[type, RowChanges] = {}
        for step in steps:
            if step.marked:
                self._add(changes, step.row, step.unmark())
        self._write(changes)

    def _record(
        self, group: list[Step], outcomes: list[Any], waiting: dict[int, Wait]
    ) -> Failure | None:
        records: dict[type, RowChanges] = {}
        stores: list[Any] = []
        inserts: list[Any] = []
        not_run: list[Step] = []
        unanswered: list[Step] = []
        first_failure: Failure | None = None
        for step, outcome in zip(group, outcomes, strict=True):
            if outcome is NO_ANSWER:
                # Skipped because a step it needs failed: it never ran. Otherwise unknown:
                # the mark stays, and it is looked up before it is sent again.
                if any(need in not_run for need in step.needs):
                    not_run.append(step)
                else:
                    unanswered.append(step)
                continue
            if isinstance(outcome, Failure):
                first_failure = first_failure or outcome
                if not outcome.ambiguous:
                    not_run.append(step)
                continue
            if isinstance(outcome, Wait):
                waiting[id(step)] = outcome
                self._add_result(records, step, outcome.value)
                continue
            self._add_result(records, step, outcome)
            if isinstance(step, ChangeStep):
                # Its audit event, written with the change's record (one statement): the
                # trail says a change was made exactly when the object's rows take it.
                inserts += step.adds(self.job)
            if step.stores:
                stores.append(lambda step=step, outcome=outcome: step.store(outcome))
        self._write(records, stores, inserts)
        self._unmark(not_run)
        self.heartbeat()
        if first_failure is None and unanswered:
            # The platform may still be working on them (a request cut short by its own
            # timeout): looked up in a later run, once it has surely finished, not now.
            return Failure(
                FailureKind.TRANSIENT,
                f"The platform did not answer for {len(unanswered)} step(s) of the request.",
                step=unanswered[0].key,
                ambiguous=True,
                retry_after=self.session.unanswered_wait if self.session else None,
            )
        return first_failure


def execute_job(job: CampaignJob, adapter: PlatformAdapter) -> None:
    """Run a claimed job to its outcome through `adapter`."""
    JobRun(job, adapter).execute()
