"""Graph batch requests: which steps go in one request, how they are encoded, and what each
operation's answer means.

Meta's batch rules (Graph API, "Batch Requests"): at most 50 operations; later operations use
earlier results with `{result=name:$.id}`, and `depends_on` names an operation that must
succeed first; "Batch requests cannot include multiple Adsets under the same Campaign". So a
job takes one batch per ad set, each also carrying that ad set's creatives and ads (and the
campaign, in the first): a 1-1-1 job whose media is uploaded costs a single request. An
operation that depends on a failed one is not run, and its answer is `null`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from facebook_business.exceptions import FacebookRequestError

from campaigns.engine.steps import NO_ANSWER, Step
from platforms.meta import changes
from platforms.meta.errors import ErrorKind, MetaError, from_facebook_error
from platforms.meta.plan import AD, AD_SET, CAMPAIGN, CHANGE, CREATIVE, STATUS_READ

# Where each kind of step is created, under the ad account.
EDGES = {CAMPAIGN: "campaigns", AD_SET: "adsets", CREATIVE: "adcreatives", AD: "ads"}

_RESULT_REF = re.compile(r"%7Bresult%3D([A-Za-z0-9_]+)%3A%24\.id%7D")


def form_encode(params: dict[str, Any]) -> str:
    """Form-encode like the SDK (lists and objects as JSON), leaving `{result=name:$.id}`
    references readable for Meta's batch substitution."""
    encoded = urlencode(
        {
            key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            for key, value in params.items()
        }
    )
    return _RESULT_REF.sub(lambda m: f"{{result={m.group(1)}:$.id}}", encoded)


def compose(candidates: Sequence[Step], capacity: int) -> list[Step]:
    """The next batch: the campaign if it is pending, then one pending ad set, and the ads
    (with their creatives) of every ad set that exists or is in the batch, up to `capacity`
    operations. A step goes in only when everything it needs is done or already in."""
    batch: list[Step] = []
    added: set[int] = set()

    def fits(step: Step) -> bool:
        return all(need.done or id(need) in added for need in step.needs)

    def add(step: Step) -> None:
        batch.append(step)
        added.add(id(step))

    pending = {id(step) for step in candidates}
    for step in candidates:
        if step.kind == CAMPAIGN:
            add(step)
    ad_set_sent = False
    ads_by_set: dict[int | None, list[Step]] = {}
    ad_sets: list[Step] = []
    for step in candidates:
        if step.kind == AD:
            parent = _ad_set_of(step)
            ads_by_set.setdefault(id(parent) if parent else None, []).append(step)
            if parent is not None and parent not in ad_sets:
                ad_sets.append(parent)
        elif step.kind == AD_SET and step not in ad_sets:
            ad_sets.append(step)

    def add_ads(ads: list[Step]) -> None:
        for ad in ads:
            creative = next((n for n in ad.needs if n.kind == CREATIVE and not n.done), None)
            new_creative = creative is not None and id(creative) not in added
            if len(batch) + (2 if new_creative else 1) > capacity:
                break
            if new_creative:
                if id(creative) not in pending or not fits(creative):
                    continue
                add(creative)
            if fits(ad):
                add(ad)

    for ad_set in sorted(ad_sets, key=lambda s: s.row.position):
        if id(ad_set) in pending:
            if ad_set_sent or len(batch) >= capacity or not fits(ad_set):
                continue  # one ad set of the campaign per batch
            add(ad_set)
            ad_set_sent = True
        elif not ad_set.done:
            continue
        add_ads(ads_by_set.get(id(ad_set), []))
    # Ads added to an ad set that exists already.
    add_ads(ads_by_set.get(None, []))
    return batch


def _ad_set_of(ad: Step) -> Step | None:
    """The step creating the ad's ad set; None when the ad set exists already."""
    return next((need for need in ad.needs if need.kind == AD_SET), None)


def compose_changes(candidates: Sequence[Step], capacity: int) -> list[Step]:
    """The next batch of an UPDATE job: changes do not depend on each other, except on the
    new creative they swap in, which goes in the same batch before them. At most one ad set
    of a campaign per batch: Meta's rule makes no exception for updates."""
    batch: list[Step] = []
    added: set[int] = set()
    campaigns: set[Any] = set()
    for step in candidates:
        if len(batch) >= capacity:
            break
        campaign = _ad_set_campaign(step)
        if campaign is not None and campaign in campaigns:
            continue
        if all(need.done or id(need) in added for need in step.needs):
            batch.append(step)
            added.add(id(step))
            if campaign is not None:
                campaigns.add(campaign)
    return batch


def _ad_set_campaign(step: Step) -> Any:
    """The campaign of the ad set a change step changes; None for other steps."""
    if step.kind == CHANGE and step.row.object_type == "ad_set":
        return step.target.campaign_id
    return None


@dataclass
class Operation:
    name: str
    step: Step
    relative_url: str
    # The parameters, form-encoded (a creative's are kilobytes: encoded once).
    body: str
    depends_on: str | None = None
    method: str = "POST"

    def as_request(self) -> dict[str, Any]:
        request = {
            "method": self.method,
            "relative_url": self.relative_url,
            **({"body": self.body} if self.body else {}),
            "name": self.name,
            # Every answer is needed: it carries the created ID, the checkpoint.
            "omit_response_on_success": False,
        }
        if self.depends_on:
            request["depends_on"] = self.depends_on
        return request


def encode(
    steps: Sequence[Step], account_id: str, params_of: Callable[[Step, Callable], dict]
) -> list[Operation]:
    """The operations of `steps`; `params_of(step, ref)` builds a step's parameters, where
    `ref(row)` is the row's platform ID or a reference to the operation creating it."""
    names: dict[int, str] = {}
    operations: list[Operation] = []

    def ref(row: Any) -> str:
        if row.platform_id:
            return str(row.platform_id)
        return f"{{result={names[id(row)]}:$.id}}"

    for n, step in enumerate(steps):
        name = f"op{n}"
        method = "POST"
        if step.kind in (CHANGE, STATUS_READ):
            method, url, graph_params = changes.graph_request(step, ref)
            if method == "GET":
                url, graph_params = f"{url}?{urlencode(graph_params)}", {}
        else:
            url, graph_params = f"{account_id}/{EDGES[step.kind]}", params_of(step, ref)
        encoded = form_encode(graph_params)
        # A need in the batch the parameters do not reference (a creative needs its ad set
        # only to be skipped with it): say it with depends_on.
        unreferenced = [
            names[id(need.row)]
            for need in step.needs
            if id(need.row) in names and f"{{result={names[id(need.row)]}:" not in encoded
        ]
        operations.append(
            Operation(
                name,
                step,
                url,
                encoded,
                depends_on=unreferenced[-1] if unreferenced else None,
                method=method,
            )
        )
        names[id(step.row)] = name
    return operations


def read_answers(
    operations: Sequence[Operation], answers: Any, secrets: tuple[str, ...]
) -> list[Any] | None:
    """Each operation's outcome: the created ID, Meta's error as a MetaError, or
    `NO_ANSWER`; None when the answer does not match the request."""
    if not isinstance(answers, list) or len(answers) != len(operations):
        return None
    outcomes: list[Any] = []
    for operation, answer in zip(operations, answers, strict=True):
        if answer is None:
            outcomes.append(NO_ANSWER)
            continue
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            body = None
        code = answer.get("code")
        if operation.step.kind in (CHANGE, STATUS_READ) and code == 200:
            outcomes.append(changes.graph_answer(operation.step, body))
            continue
        if code == 200 and isinstance(body, dict) and body.get("id"):
            outcomes.append(str(body["id"]))
            continue
        if code == 200:
            # Meta ran it, but the answer carries no ID: the object may exist. Look first.
            outcomes.append(
                MetaError(
                    message="Meta's answer to the operation had no ID.",
                    kind=ErrorKind.TRANSIENT,
                    step=operation.step.key,
                    ambiguous=True,
                )
            )
            continue
        exc = FacebookRequestError(
            "Batch operation failed",
            request_context={"method": "POST", "path": operation.relative_url},
            http_status=code,
            http_headers={},
            body=json.dumps(body) if body is not None else "",
        )
        outcomes.append(from_facebook_error(exc, step=operation.step.key, secrets=secrets))
    return outcomes
