"""Ad review and the statuses a client reads from it: ``effective_status`` and
``ad_review_feedback``.

Meta reviews an ad before it delivers. Sources, named at each rule (pages on
developers.facebook.com/docs/marketing-api/ unless a full URL is given):
- Marketing API best practices, "Ad Changes Triggering Ad Reviews": "If you make any changes to
  the following scenarios, your ad will be triggered for review: Any changes to your creative
  (image, text, link, video, and so on); Any changes to targeting; Any changes of optimization
  goals and billing events may also trigger review. Note: Changes to bid amount, budget, and ad
  set schedule will not have any effect on the review status. Additionally, if an ad enters Ad
  Review with the run status of "Paused", then it will remain Paused upon exiting Ad Review."
- Ad reference (reference/adgroup), ``effective_status``: ACTIVE, PAUSED, DELETED,
  PENDING_REVIEW, DISAPPROVED, PREAPPROVED, PENDING_BILLING_INFO, CAMPAIGN_PAUSED, ARCHIVED,
  ADSET_PAUSED, IN_PROCESS, WITH_ISSUES (the SDK's ``Ad.EffectiveStatus`` copies the list).
- Adgroup Review Feedback (reference/adgroup-review-feedback): ``global`` is a
  ``map<string, string>``, "Reasons for review disapproval across all platforms ... Each reason
  has a key and a description"; ``placement_specific`` the same per platform.

- Ad Campaign Issues Info / Adgroup Issues Info (reference/ad-campaign-issues-info,
  reference/adgroup-issues-info; the SDK's AdCampaignIssuesInfo): ``issues_info`` is a list of
  ``{"level", "error_code", "error_summary", "error_message", "error_type", "mid"}``; best
  practices, "Manage your ad object's status": "If the status is with_issues, paused,
  archived, or deleted for a campaign, all the objects below it automatically inherit that
  status."

The review is computed lazily from timestamps when the ad is read (no background work): an ad
is ``IN_PROCESS`` for ``SandboxConfig.review_seconds`` after its review started, then ``ACTIVE``
(or ``DISAPPROVED`` when its name or its creative's name holds ``DISAPPROVE_MARKER``).
"""

from __future__ import annotations

from typing import Any

from .state import GraphObject, SandboxState

# A name (of the ad or of its creative) holding this marker is disapproved after review.
DISAPPROVE_MARKER = "[sandbox:disapprove]"
# The reason the sandbox gives; Meta's keys are policy names, its values the explanation.
DISAPPROVAL_POLICY = "Sandbox Disapproval"
DISAPPROVAL_TEXT = (
    "This ad was disapproved by the Meta sandbox because its name or its creative's name "
    f"contains {DISAPPROVE_MARKER}."
)
# A campaign, ad set or ad whose name holds this marker has a delivery issue (WITH_ISSUES).
ISSUES_MARKER = "[sandbox:with_issues]"
ISSUE_LEVELS = {"campaign": "CAMPAIGN", "adset": "AD_SET", "ad": "AD"}
# Changes of an ad set that send its ads back to review (best practices, quoted above).
ADSET_REVIEW_FIELDS: tuple[str, ...] = ("targeting", "optimization_goal", "billing_event")
# Parent statuses and what an ad set or ad below them reads as (effective_status enums of the
# ad set and ad references: CAMPAIGN_PAUSED, ADSET_PAUSED, ARCHIVED, DELETED).
CAMPAIGN_PARENT = {"PAUSED": "CAMPAIGN_PAUSED", "DELETED": "DELETED", "ARCHIVED": "ARCHIVED"}
ADSET_PARENT = {"PAUSED": "ADSET_PAUSED", "DELETED": "DELETED", "ARCHIVED": "ARCHIVED"}


def start_review(state: SandboxState, ad: GraphObject, now: float) -> None:
    """Send ``ad`` to review as of ``now``; the verdict is taken from the names it has now."""
    creative = state.get_object(str((ad.fields.get("creative") or {}).get("id")))
    names = [str(ad.fields.get("name") or "")]
    if creative is not None:
        names.append(str(creative.fields.get("name") or ""))
    ad.extra["review"] = {
        "started": now,
        "until": now + max(0.0, float(state.config.review_seconds)),
        "disapproved": any(DISAPPROVE_MARKER in name for name in names),
    }


def review_adset_ads(state: SandboxState, adset: GraphObject, now: float) -> None:
    """An ad set's targeting, optimization goal or billing event changed: its live ads go back
    to review."""
    for ad in state.children(adset.id, "ad"):
        if not ad.deleted and ad.fields.get("status") not in ("DELETED", "ARCHIVED"):
            start_review(state, ad, now)


def review_verdict(ad: GraphObject, now: float) -> str | None:
    """``IN_PROCESS`` while the ad is under review, ``DISAPPROVED`` after a failed review,
    ``None`` when approved (or never reviewed)."""
    review = ad.extra.get("review")
    if not review:
        return None
    if now < review["until"]:
        return "IN_PROCESS"
    return "DISAPPROVED" if review["disapproved"] else None


def review_feedback(ad: GraphObject, now: float) -> dict[str, Any] | None:
    """``ad_review_feedback`` as the Adgroup Review Feedback node shapes it, once a review
    failed."""
    if review_verdict(ad, now) != "DISAPPROVED":
        return None
    return ad.extra["review"].get("feedback") or {"global": {DISAPPROVAL_POLICY: DISAPPROVAL_TEXT}}


def decide_review(
    ad: GraphObject, now: float, *, disapproved: bool, feedback: dict[str, Any] | None = None
) -> None:
    """A verdict made later (the control API's): the ad's review ends now with it, as when
    Meta reviews an ad again after a report or a policy change."""
    ad.extra["review"] = {
        "started": now,
        "until": now,
        "disapproved": disapproved,
        "feedback": feedback if disapproved else None,
    }


def default_issue(obj: GraphObject) -> dict[str, Any]:
    return {
        "level": ISSUE_LEVELS.get(obj.type, "AD"),
        "error_code": 1815869,
        "error_summary": "Sandbox delivery issue",
        "error_message": (
            "This object has a delivery issue made by the Meta sandbox "
            f"({ISSUES_MARKER} in its name, or POST /__sandbox__/objects/{obj.id}/issues)."
        ),
        "error_type": "SOFT_ERROR",
        "mid": f"{obj.id}0",
    }


def issues_info(obj: GraphObject) -> list[dict[str, Any]]:
    """The object's own ``issues_info``: what the control API set, else one issue when its
    name holds the marker, else none."""
    if "issues" in obj.extra:
        return list(obj.extra["issues"])
    if obj.type in ISSUE_LEVELS and ISSUES_MARKER in str(obj.fields.get("name") or ""):
        return [default_issue(obj)]
    return []


def effective_status(state: SandboxState, obj: GraphObject, now: float) -> str:
    """``effective_status`` of a campaign, ad set or ad: its own DELETED/ARCHIVED first, then
    what its parents impose (CAMPAIGN_PAUSED, ADSET_PAUSED, ...), then its own PAUSED, then (ads)
    the review: IN_PROCESS, DISAPPROVED or ACTIVE. A paused ad stays PAUSED through review
    ("it will remain Paused upon exiting Ad Review")."""
    status = str(obj.fields.get("status", "ACTIVE"))
    if obj.type == "campaign" and status == "ACTIVE" and issues_info(obj):
        return "WITH_ISSUES"
    if obj.type not in ("adset", "ad") or status in ("DELETED", "ARCHIVED"):
        return status
    adset = obj if obj.type == "adset" else state.get_object(str(obj.parent_id))
    campaign = state.get_object(str(adset.parent_id)) if adset is not None else None
    if campaign is not None and campaign.fields.get("status") in CAMPAIGN_PARENT:
        return CAMPAIGN_PARENT[str(campaign.fields["status"])]
    if obj.type == "ad" and adset is not None and adset.fields.get("status") in ADSET_PARENT:
        return ADSET_PARENT[str(adset.fields["status"])]
    if status != "ACTIVE":
        return status
    verdict = review_verdict(obj, now) if obj.type == "ad" else None
    if verdict:
        return verdict
    # An issue of the object or of a parent: the parent's status is inherited.
    if any(issues_info(o) for o in (obj, adset, campaign) if o is not None):
        return "WITH_ISSUES"
    return status
