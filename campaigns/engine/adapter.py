"""What the engine asks of a platform, and the words both sides use for what went wrong.

A platform package implements `PlatformAdapter` (found through `platforms.registry`); one
`PlatformSession` serves one run of one job. The adapter owns only what is the platform's:
its client, how one step or a group of steps is sent, how an object a lost step may have made
is found again (by the job's marker), its error taxonomy and its media. The engine owns the
rest: claim and lease, marks, recording, backoff, caps and the job's final status.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adaccounts.models import AdAccount
from campaigns.engine.steps import Plan, Step
from campaigns.models import CampaignJob


class FailureKind(enum.StrEnum):
    TRANSIENT = "TRANSIENT"  # trying again later may work (5xx, timeouts, a crash of ours)
    RATE_LIMITED = "RATE_LIMITED"  # the account must slow down: pause it, refund the attempt
    TOKEN = "TOKEN"  # noqa: S105 (the credentials are dead: the account needs re-authentication)
    PERMANENT = "PERMANENT"  # the platform refused the request as it is


# The stored error's keys (API.md, "Jobs": `error`), for every platform.
ERROR_KEYS = (
    "message",
    "code",
    "subcode",
    "type",
    "fbtrace_id",
    "user_title",
    "user_message",
    "transient",
    "step",
)


@dataclass
class Failure(Exception):
    """A failed step or request, classified by the platform's taxonomy.

    `ambiguous`: the request may have been applied although no answer says so (a timeout
    after sending, a dropped connection, a 5xx): look before sending it again.
    `retry_after`: seconds the platform asked us to wait, if it said.
    `error`: what is stored on the job and shown by the API, scrubbed of every secret.
    """

    kind: FailureKind
    message: str
    step: str = ""
    ambiguous: bool = False
    retry_after: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.step or 'job'}: {self.message}"

    @property
    def transient(self) -> bool:
        return self.kind in (FailureKind.TRANSIENT, FailureKind.RATE_LIMITED)

    @property
    def error(self) -> dict[str, Any]:
        return {
            **job_error(self.message, step=self.step, transient=self.transient),
            **{
                key: value
                for key, value in self.details.items()
                if key in ERROR_KEYS and key not in ("message", "transient", "step")
            },
        }


def job_label(job: CampaignJob) -> str:
    """The marker every object of a job carries: how an adapter finds it again after a lost
    answer (`PlatformSession.find`)."""
    return f"mojito-job-{job.pk}"


def job_error(message: str, *, step: str = "", transient: bool = False) -> dict[str, Any]:
    """An error no platform said (mojito's own), in the stored shape."""
    return {**dict.fromkeys(ERROR_KEYS), "message": message, "transient": transient, "step": step}


class NotSent(Exception):
    """The adapter stopped before anything left (the account is paused): retry in `seconds`,
    attempt refunded, marks undone."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


class GroupRefused(Exception):
    """The platform refused a request of several steps as a whole (an endpoint without batch
    support): none of them ran. The engine sends one step per request from then on, for
    `scope` (the adapter's key: an account at an endpoint)."""

    def __init__(self, failure: Failure, scope: str) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.scope = scope


class LeaseLost(Exception):
    """The sweeper took the job back (this run was too slow); stop touching it."""


# What the adapter answers for one step: the result to record (an ID), a `Wait`, a
# `Failure`, or `NO_ANSWER`.
StepOutcome = Any


class PlatformSession(Protocol):
    """One run of one job on the platform."""

    # Several steps may go in one request (the adapter composes them); None: one at a time.
    group_scope: str | None
    # Seconds after which a step sent without an answer has surely finished on the platform
    # (so that a lookup then finds what it made).
    unanswered_wait: float

    def load_plan(self) -> Plan:
        """The job's steps, built from its rows."""

    def compose(self, candidates: Sequence[Step]) -> list[Step]:
        """The next request's steps, taken from `candidates` in order: each one's needs are
        done or earlier in the group. `candidates` are the steps not done whose needs are
        done or candidates themselves, in plan order."""

    def run(self, steps: Sequence[Step]) -> list[StepOutcome]:
        """Send `steps` (one request for the group, or one step) and answer for each.

        Raises `Failure` for the request as a whole, `NotSent`, or `GroupRefused`.
        """

    def find(self, step: Step) -> list[str]:
        """IDs of objects carrying this job's marker that a lost send of `step` may have
        made, best first. Raises `Failure`."""

    def classify(self, exc: BaseException) -> Failure | None:
        """The platform's reading of an exception raised by its own code, or None when it
        is none of the platform's (a bug, a database error)."""

    def scrub(self, text: str) -> str:
        """`text` without any secret this run holds."""


class PlatformAdapter(Protocol):
    def open(
        self,
        *,
        job: CampaignJob,
        account: AdAccount,
        credentials: dict[str, str],
        before_send: Callable[[], None],
    ) -> PlatformSession:
        """A session for one run, with a client built from the decrypted credentials;
        `before_send` is called before every request leaves (it raises `LeaseLost`)."""
