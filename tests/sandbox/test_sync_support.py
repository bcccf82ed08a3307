"""What a sync reads from the sandbox, through the real SDK over HTTP: the account-level and
campaign-level lists with statuses, issues and review feedback, picked by `filtering` and
`effective_status`, paged; a disapproval or an issue made later through the control API; and
the request log a test or benchmark counts Graph requests with (README, "Sync support")."""

from __future__ import annotations

from typing import Any

from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign

from platforms.meta.sandbox.fields import MAX_LIMIT

from .conftest import ACT, Sandbox
from .test_insights import Tree

STATUS_FIELDS = ["id", "status", "configured_status", "effective_status", "issues_info"]
EVERY_STATUS = [
    "ACTIVE",
    "PAUSED",
    "DELETED",
    "PENDING_REVIEW",
    "DISAPPROVED",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
    "CAMPAIGN_PAUSED",
    "ARCHIVED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
]


def listed(edge: Any, **params: Any) -> list[dict[str, Any]]:
    return [item.export_all_data() for item in edge(fields=params.pop("fields"), params=params)]


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


def test_account_lists_pick_objects_by_id_and_campaign_with_their_statuses(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=2, ads=2)
    other = Tree(sandbox, ad_sets=1, ads=1)
    by_campaign = [{"field": "campaign.id", "operator": "IN", "value": [tree.campaign]}]

    campaigns = listed(
        account.get_campaigns,
        fields=STATUS_FIELDS,
        filtering=[{"field": "id", "operator": "IN", "value": [tree.campaign]}],
    )
    ad_sets = listed(account.get_ad_sets, fields=STATUS_FIELDS, filtering=by_campaign)
    ads = listed(
        account.get_ads, fields=[*STATUS_FIELDS, "ad_review_feedback"], filtering=by_campaign
    )

    assert ids(campaigns) == {tree.campaign}
    assert ids(ad_sets) == set(tree.ad_sets)
    assert ids(ads) == set(tree.ads)
    assert not (ids(ads) & set(other.ads))
    for item in campaigns + ad_sets + ads:
        assert item["status"] == item["configured_status"] == "ACTIVE"
        assert item["effective_status"] in ("ACTIVE", "IN_PROCESS")
        assert "issues_info" not in item  # none: Graph leaves empty fields out


def test_archived_and_deleted_objects_come_only_when_their_status_is_asked(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=1, ads=3)
    archived, deleted, live = tree.ads
    sandbox.post(archived, status="ARCHIVED")
    sandbox.delete(deleted)
    by_campaign = [{"field": "campaign.id", "operator": "IN", "value": [tree.campaign]}]

    plain = listed(account.get_ads, fields=["id"], filtering=by_campaign)
    every = listed(
        account.get_ads,
        fields=["id", "effective_status"],
        filtering=by_campaign,
        effective_status=EVERY_STATUS,
    )
    campaign_edge = listed(
        Campaign(tree.campaign, api=account.get_api()).get_ads,
        fields=["id"],
        effective_status=["ARCHIVED"],
    )

    assert ids(plain) == {live}
    assert {i["id"]: i["effective_status"] for i in every}[archived] == "ARCHIVED"
    assert archived in ids(every) and live in ids(every)
    assert ids(campaign_edge) == {archived}


def test_lists_page_with_limit_up_to_the_sandboxs_maximum(sandbox: Sandbox, account: AdAccount):
    tree = Tree(sandbox, ad_sets=1, ads=7)
    ad_set = AdSet(next(iter(tree.ad_sets)), api=account.get_api())

    first = sandbox.get(f"{ACT}/ads", fields="id", limit=3).json()
    every = listed(ad_set.get_ads, fields=["id"], limit=3)
    huge = sandbox.get(f"{ACT}/ads", fields="id", limit=MAX_LIMIT * 10).json()

    assert len(first["data"]) == 3 and "next" in first["paging"]
    assert ids(every) == set(tree.ads) and len(every) == 7
    assert len(huge["data"]) == 7 and "next" not in huge["paging"]
    assert MAX_LIMIT == 5000


def test_an_ad_disapproved_later_reads_disapproved_with_its_feedback_then_approved(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=1, ads=2)
    ad, untouched = tree.ads
    feedback = {"global": {"Personal Health": "Ads may not imply knowledge of health."}}

    sandbox.control("POST", f"objects/{ad}/review", verdict="DISAPPROVED", feedback=feedback)
    read = (
        Ad(ad, api=account.get_api())
        .api_get(fields=["effective_status", "ad_review_feedback"])
        .export_all_data()
    )
    listed_ads = listed(
        account.get_ads,
        fields=["id", "effective_status", "ad_review_feedback"],
        effective_status=["DISAPPROVED"],
    )

    assert read["effective_status"] == "DISAPPROVED"
    assert read["ad_review_feedback"] == feedback
    assert ids(listed_ads) == {ad}
    assert untouched not in ids(listed_ads)

    sandbox.control("POST", f"objects/{ad}/review", verdict="APPROVED")
    again = Ad(ad, api=account.get_api()).api_get(fields=["effective_status", "ad_review_feedback"])
    assert again["effective_status"] == "ACTIVE"
    assert "ad_review_feedback" not in again


def test_a_disapproval_without_feedback_gets_the_sandboxs_reason(
    sandbox: Sandbox, account: AdAccount
):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    (ad,) = tree.ads
    sandbox.control("POST", f"objects/{ad}/review", verdict="DISAPPROVED")
    read = Ad(ad, api=account.get_api()).api_get(fields=["ad_review_feedback"]).export_all_data()
    ((reason, text),) = read["ad_review_feedback"]["global"].items()
    assert reason and text


def test_review_control_refuses_what_is_not_an_ad_or_a_verdict(sandbox: Sandbox):
    import requests

    tree = Tree(sandbox, ad_sets=1, ads=1)
    base = f"{sandbox.base_url}/__sandbox__/objects"
    for target, body in (
        (tree.campaign, {"verdict": "DISAPPROVED"}),
        (tree.ads[0], {"verdict": "MAYBE"}),
        (tree.ads[0], {"verdict": "DISAPPROVED", "feedback": ["no"]}),
        ("404", {"verdict": "APPROVED"}),
    ):
        assert requests.post(f"{base}/{target}/review", json=body, timeout=5).status_code == 400


def test_issues_give_with_issues_and_metas_issues_info_shape_down_the_tree(
    sandbox: Sandbox, account: AdAccount
):
    sandbox.configure(review_seconds=0)
    tree = Tree(sandbox, ad_sets=2, ads=1)
    troubled, fine = tree.ad_sets

    answer = sandbox.control("POST", f"objects/{troubled}/issues")
    ad_sets = {
        i["id"]: i
        for i in listed(
            account.get_ad_sets, fields=["id", "effective_status", "issues_info"], limit=10
        )
    }
    ads = {
        i["id"]: i
        for i in listed(account.get_ads, fields=["id", "effective_status", "issues_info"])
    }

    (issue,) = answer["issues_info"]
    assert set(issue) == {
        "level",
        "error_code",
        "error_summary",
        "error_message",
        "error_type",
        "mid",
    }
    assert issue["level"] == "AD_SET" and isinstance(issue["error_code"], int)
    assert ad_sets[troubled]["effective_status"] == "WITH_ISSUES"
    assert ad_sets[troubled]["issues_info"] == [issue]
    assert ad_sets[fine]["effective_status"] == "ACTIVE"
    # Its ad inherits the status, without issues of its own.
    (ad_below,) = tree.ad_sets[troubled]
    assert ads[ad_below]["effective_status"] == "WITH_ISSUES"
    assert "issues_info" not in ads[ad_below]

    sandbox.control("POST", f"objects/{troubled}/issues", issues=[])
    assert (
        AdSet(troubled, api=account.get_api()).api_get(fields=["effective_status"])[
            "effective_status"
        ]
        == "ACTIVE"
    )


def test_the_issues_marker_in_a_name_gives_an_issue_until_the_control_api_clears_it(
    sandbox: Sandbox, account: AdAccount
):
    campaign = sandbox.campaign(name="Summer [sandbox:with_issues]", status="ACTIVE")
    read = Campaign(campaign, api=account.get_api()).api_get(
        fields=["effective_status", "issues_info"]
    )
    assert read["effective_status"] == "WITH_ISSUES"
    assert read["issues_info"][0]["level"] == "CAMPAIGN"

    custom = {"error_code": 2446124, "error_summary": "Payment failed", "error_type": "HARD_ERROR"}
    sandbox.control("POST", f"objects/{campaign}/issues", issues=[custom])
    read = Campaign(campaign, api=account.get_api()).api_get(fields=["issues_info"])
    assert read["issues_info"][0]["error_summary"] == "Payment failed"
    assert read["issues_info"][0]["error_code"] == 2446124

    sandbox.control("POST", f"objects/{campaign}/issues", issues=[])
    read = Campaign(campaign, api=account.get_api()).api_get(fields=["effective_status"])
    assert read["effective_status"] == "ACTIVE"


def test_the_request_log_counts_graph_requests_between_two_marks(
    sandbox: Sandbox, account: AdAccount
):
    Tree(sandbox, ad_sets=1, ads=1)
    mark = sandbox.control("GET", "requests")["last_seq"]

    listed(account.get_campaigns, fields=["id"])
    listed(account.get_ads, fields=["id"])
    sandbox.get(f"{ACT}/adsets", fields="id")

    since = sandbox.control("GET", f"requests?since={mark}")
    campaigns = sandbox.control("GET", f"requests?since={mark}&path_contains=/campaigns")
    gets = sandbox.control("GET", f"requests?since={mark}&method=get")
    assert since["count"] == len(since["data"]) == 3
    assert campaigns["count"] == 1
    assert gets["count"] == 3
    assert since["last_seq"] == mark + 3
    assert [e["seq"] for e in since["data"]] == [mark + 1, mark + 2, mark + 3]


def test_the_objects_snapshot_says_what_a_read_would(sandbox: Sandbox):
    tree = Tree(sandbox, ad_sets=1, ads=1)
    sandbox.post(tree.campaign, status="PAUSED")
    snapshot = {o["id"]: o for o in sandbox.control("GET", "objects")["data"]}
    assert snapshot[tree.campaign]["effective_status"] == "PAUSED"
    assert snapshot[tree.ads[0]]["effective_status"] == "CAMPAIGN_PAUSED"
