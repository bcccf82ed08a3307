"""The plan of a Meta UPDATE or ARCHIVE job: one change step per live object it changes, each
followed by a read of Meta's `effective_status` of the object.

A change is `POST /<object id>` with the new values (Graph API: ad campaign, ad set and ad
references, "Updating"); archiving is a change of `status` to ARCHIVED, never Meta's
irreversible DELETE. An ad's new creative is created first (Meta's creatives cannot change:
Ad Creative reference, "Updating"), with its media, then swapped onto the ad.

What each API field is on Meta and in mojito's rows is spelled out in `FIELDS`: the rows take
the values only when Meta accepted them (`ChangeStep.applies`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.engine.adapter import Failure, FailureKind
from campaigns.engine.steps import NO_ANSWER, ChangeStep, CreateStep, Plan, ReadStep, Step
from campaigns.models import (
    FINAL_STATUSES,
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    Creative,
    MediaAsset,
    ObjectChange,
    ObjectType,
)
from platforms.meta.errors import MetaError
from platforms.meta.plan import (
    CHANGE,
    CREATIVE,
    STATUS_READ,
    creative_key,
    load_cards_and_media,
    media_steps,
)
from platforms.meta.rules.changes import AD_SET_BUDGET_CHANGES_PER_WINDOW, BUDGET_FIELDS

logger = logging.getLogger(__name__)

# API field → where mojito keeps it: on the generic row ("row") or the Meta details ("meta").
FIELDS: dict[str, dict[str, str]] = {
    ObjectType.CAMPAIGN: {
        "name": "row",
        "status": "row",
        "daily_budget": "meta",
        "lifetime_budget": "meta",
        "spend_cap": "meta",
        "bid_strategy": "meta",
    },
    ObjectType.AD_SET: {
        "name": "row",
        "status": "row",
        "daily_budget": "meta",
        "lifetime_budget": "meta",
        "bid_amount": "meta",
        "end_time": "meta",
        "targeting": "meta",
        # Not PATCH fields: the account's defaults, sent with targeting that reaches the EU.
        "dsa_beneficiary": "meta",
        "dsa_payor": "meta",
    },
    ObjectType.AD: {"name": "row", "status": "row", "creative_id": "row"},
}
# Meta's answer to a budget change beyond the ad set's hourly limit.
BUDGET_BLOCKED_CODE = 17
MODELS: dict[str, type[Model]] = {
    ObjectType.CAMPAIGN: Campaign,
    ObjectType.AD_SET: AdSet,
    ObjectType.AD: Ad,
}


class MetaChange(ChangeStep):
    """A change of `target` (a Campaign, AdSet or Ad row that exists on Meta)."""

    def __init__(self, change: ObjectChange, target: Any, needs: list[Step]) -> None:
        applies, previous = _applies(change, target)
        super().__init__(
            f"{change.object_type} {target.name or target.pk}",
            CHANGE,
            change,
            needs,
            applies=applies,
            previous=previous,
        )
        self.target = target
        self.creative: Creative | None = None


class StatusRead(ReadStep):
    """Meta's `effective_status` of an object, read once its change was applied (an ad set
    to ACTIVE reads ACTIVE, or CAMPAIGN_PAUSED; an ad IN_PROCESS while Meta reviews it), so
    that the object shows what Meta says of it now. Done once read by this run: a resumed job
    reads it again (a read is repeatable)."""

    def __init__(self, change: MetaChange) -> None:
        super().__init__(
            f"{change.key} (status)",
            STATUS_READ,
            change.target,
            (change,),
            field="effective_status",
        )
        self.target = change.target
        self._read = False

    @property
    def done(self) -> bool:
        return self._read

    def record(self, result: Any) -> dict[str, Any]:
        self._read = True
        return self._set(effective_status=str(result or ""), synced_at=timezone.now())


def read_outcome(step: StatusRead, outcome: Any) -> Any:
    """A status read is best effort: the change it follows was applied, so a read Meta
    refused or left unanswered keeps the status as it was instead of failing the job."""
    if isinstance(outcome, MetaError) or outcome is NO_ANSWER:
        logger.info("%s: Meta's status not read (%s); kept as it was", step.key, outcome)
        return step.target.effective_status
    return outcome


def _stored(value: Any, field: str) -> Any:
    if field == "end_time" and isinstance(value, str):
        return parse_datetime(value)
    return value


def _shown(value: Any) -> Any:
    """A stored value as JSON holds it (the change's `previous`)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _applies(
    change: ObjectChange, target: Any
) -> tuple[list[tuple[Model, dict[str, Any]]], dict[str, Any]]:
    where = FIELDS[change.object_type]
    on_row: dict[str, Any] = {}
    on_meta: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for field, value in change.values.items():
        holder = target if where[field] == "row" else target.meta
        previous[field] = _shown(getattr(holder, field))
        (on_row if where[field] == "row" else on_meta)[field] = _stored(value, field)
    applies: list[tuple[Model, dict[str, Any]]] = []
    if on_row:
        applies.append((target, on_row))
    if on_meta:
        applies.append((target.meta, on_meta))
    return applies, previous


def budget_refusal(step: Step, failure: Failure) -> Failure:
    """Meta's answer to a budget change of an ad set that changed its budget too often: code
    17 without subcode, "User request limit reached", and the ad set's budget blocked for an
    hour (Marketing API rate limiting, "Ad Set Level Rate Limiting"). A refusal of this one
    change, not the account's rate limit: pausing the account and sending it again would
    stall every job of the account for that hour."""
    if step.kind != CHANGE:
        return failure
    details = failure.details
    if not (
        step.row.object_type == ObjectType.AD_SET
        and any(field in step.row.values for field in BUDGET_FIELDS)
        and failure.kind is FailureKind.RATE_LIMITED
        and details.get("code") == BUDGET_BLOCKED_CODE
        and not details.get("subcode")
    ):
        return failure
    return Failure(
        FailureKind.PERMANENT,
        f"{failure.message} Meta blocks an ad set's budget for an hour once it changed "
        f"{AD_SET_BUDGET_CHANGES_PER_WINDOW} times within an hour (changes made outside "
        "mojito count too); retry the job after that hour.",
        step=failure.step,
        details={k: v for k, v in details.items() if k != "transient"},
    )


def graph_request(
    step: Step, ref: Callable[[Any], str] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """How Meta is asked for a change or a status read, one call or a batch operation: the
    method, the object's path and the parameters."""
    if step.kind == STATUS_READ:
        return "GET", str(step.target.platform_id), {"fields": "effective_status"}
    assert isinstance(step, MetaChange)
    return "POST", str(step.target.platform_id), graph_params(step, ref)


def graph_answer(step: Step, body: Any) -> Any:
    """What Meta's successful answer to `graph_request` means: the object's effective status
    for a read; for a change, only that it was applied (`{"success": true}`)."""
    if step.kind == STATUS_READ:
        return body.get("effective_status") if isinstance(body, dict) else ""
    return True


def graph_params(step: MetaChange, ref: Callable[[Any], str] | None = None) -> dict[str, Any]:
    """What Meta is sent for a change: the API's values under Meta's names; `ref(row)` names
    a new creative (its ID, or a reference to the batch operation creating it)."""
    params: dict[str, Any] = {}
    for field, value in step.row.values.items():
        if field == "creative_id":
            assert step.creative is not None
            creative = ref(step.creative) if ref else str(step.creative.platform_id)
            params["creative"] = {"creative_id": creative}
        elif value is None:
            # Meta's way to clear a value it keeps: e.g. an ad set's end_time.
            params[field] = 0 if field == "end_time" else ""
        else:
            params[field] = value
    return params


@dataclass
class ChangeRows:
    changes: list[ObjectChange]
    targets: dict[Any, Any]
    creatives: list[Creative]
    media: list[MediaAsset]

    @classmethod
    def load(cls, job: CampaignJob) -> ChangeRows:
        """The job's changes and their objects: a query per kind of object changed, one for
        new creatives, and one each for their carousel cards and media when they have any."""
        changes = list(ObjectChange.objects.filter(job=job).order_by("position"))
        targets: dict[Any, Any] = {}
        for object_type, model in MODELS.items():
            ids = [c.object_id for c in changes if c.object_type == object_type]
            if ids:
                related = ["meta"] + (["creative", "ad_set"] if model is Ad else [])
                targets.update(
                    (row.pk, row)
                    for row in model.objects.filter(pk__in=ids).select_related(*related)
                )
        creatives = list(Creative.objects.filter(job=job, is_existing=False).select_related("meta"))
        media = load_cards_and_media(job, creatives)
        return cls(changes=changes, targets=targets, creatives=creatives, media=media)


def build_change_plan(rows: ChangeRows) -> Plan:
    """Media, then new creatives (each needs every medium), then one step per change; a
    change that swaps a creative needs that creative."""
    steps = media_steps(rows.media)
    media = list(steps)
    creative_steps = {
        creative.pk: CreateStep(creative_key(creative), CREATIVE, creative, media)
        for creative in rows.creatives
    }
    steps += creative_steps.values()
    for change in rows.changes:
        target = rows.targets.get(change.object_id)
        if target is None:
            continue  # deleted here meanwhile: nothing left to change
        parent = target.ad_set if isinstance(target, Ad) else None
        if change.position and (
            target.status in FINAL_STATUSES or (parent and parent.status in FINAL_STATUSES)
        ):
            # A cascade's child archived since the cascade was accepted (the archive ran
            # first, as accepted): Meta would refuse it, and mojito never brings it back.
            continue
        creative_id = change.values.get("creative_id")
        swap = creative_steps[uuid.UUID(creative_id)] if creative_id else None
        step = MetaChange(change, target, [swap] if swap else [])
        step.creative = swap.row if swap else None
        steps += [step, StatusRead(step)]
    return Plan(steps=steps)
