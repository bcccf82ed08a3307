"""The real facebook-business SDK against the sandbox over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adimage import AdImage
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import FacebookAdsApi, FacebookResponse
from facebook_business.exceptions import FacebookRequestError
from facebook_business.video_uploader import VideoEncodingStatusChecker

from platforms.meta.sandbox import DEMO_PAGE_ID, DEMO_TOKEN

from .conftest import ACT, VERSION, Sandbox, make_api, mp4_bytes, png_bytes

CAMPAIGN = {
    Campaign.Field.name: "Spring sale",
    Campaign.Field.objective: Campaign.Objective.outcome_traffic,
    Campaign.Field.status: Campaign.Status.paused,
    Campaign.Field.special_ad_categories: [],
    "is_adset_budget_sharing_enabled": False,
}


def adset_params(campaign_id: str, **overrides: object) -> dict[str, object]:
    return {
        AdSet.Field.name: "US 18-35",
        AdSet.Field.campaign_id: campaign_id,
        AdSet.Field.billing_event: AdSet.BillingEvent.impressions,
        AdSet.Field.optimization_goal: AdSet.OptimizationGoal.link_clicks,
        AdSet.Field.daily_budget: 2000,
        AdSet.Field.targeting: {
            "geo_locations": {"countries": ["US"]},
            "age_min": 18,
            "age_max": 35,
            "targeting_automation": {"advantage_audience": 0},
        },
        AdSet.Field.start_time: "2026-12-01T00:00:00Z",
        AdSet.Field.status: AdSet.Status.paused,
        **overrides,
    }


def test_full_one_one_one_path(sandbox: Sandbox, account: AdAccount, tmp_path: Path) -> None:
    campaign = account.create_campaign(params=CAMPAIGN)
    adset = account.create_ad_set(params=adset_params(campaign["id"]))

    image_file = tmp_path / "sale.png"
    image_file.write_bytes(png_bytes(4, 6))
    image = AdImage(parent_id=ACT, api=account.get_api())
    image[AdImage.Field.filename] = str(image_file)
    image.remote_create()
    assert image[AdImage.Field.hash] == image.get_hash()
    assert (image["width"], image["height"]) == (4, 6)

    creative = account.create_ad_creative(
        params={
            "name": "Creative 1",
            "object_story_spec": {
                "page_id": DEMO_PAGE_ID,
                "link_data": {
                    "link": "https://example.com/sale",
                    "message": "Primary text",
                    "name": "Headline",
                    "image_hash": image.get_hash(),
                    "call_to_action": {"type": "SHOP_NOW"},
                },
            },
        }
    )
    ad = account.create_ad(
        params={
            Ad.Field.name: "Ad 1",
            Ad.Field.adset_id: adset["id"],
            Ad.Field.creative: {"creative_id": creative["id"]},
            Ad.Field.status: Ad.Status.paused,
            Ad.Field.adlabels: [{"name": "mojito-job-1"}],
        }
    )

    read = Ad(ad["id"], api=account.get_api()).api_get(
        fields=[
            "name",
            "adset_id",
            "campaign_id",
            "creative",
            "status",
            "effective_status",
            "adlabels",
        ]
    )
    assert read["adset_id"] == adset["id"]
    assert read["campaign_id"] == campaign["id"]
    assert read["creative"]["id"] == creative["id"]
    # The campaign is paused, so the ad's effective status says so.
    assert read["effective_status"] == "CAMPAIGN_PAUSED"
    assert read["adlabels"][0]["name"] == "mojito-job-1"

    stored = {obj["type"]: obj for obj in sandbox.state.snapshot()}
    assert set(stored) == {"campaign", "adset", "adimage", "adcreative", "ad"}
    assert stored["adset"]["fields"]["targeting"]["geo_locations"] == {"countries": ["US"]}


def test_create_ad_image_from_bytes_answers_meta_shape(account: AdAccount) -> None:
    data = png_bytes()
    image = account.create_ad_image(params={"bytes": base64.b64encode(data).decode()})
    assert image["hash"] == hashlib.md5(data).hexdigest()  # noqa: S324
    assert image["name"] == "bytes"
    assert image["url"].endswith(".png")


def test_filtered_campaign_list_and_paging(account: AdAccount) -> None:
    for index in range(5):
        account.create_campaign(params={**CAMPAIGN, "name": f"job-42 step {index}"})
    account.create_campaign(params={**CAMPAIGN, "name": "unrelated"})

    found = account.get_campaigns(
        fields=[Campaign.Field.name],
        params={
            "filtering": [{"field": "name", "operator": "CONTAIN", "value": "job-42"}],
            "limit": 2,
        },
    )
    names = [campaign["name"] for campaign in found]  # the cursor follows paging.next
    assert sorted(names) == [f"job-42 step {i}" for i in range(5)]
    assert found.total() == 5

    exact = account.get_campaigns(
        fields=["name"],
        params={
            "filtering": [{"field": "name", "operator": "IN", "value": ["unrelated", "missing"]}]
        },
    )
    assert [c["name"] for c in exact] == ["unrelated"]


def test_the_video_library_filtered_by_title_lists_only_that_video(account: AdAccount) -> None:
    # How mojito finds a video whose upload answer was lost, without paging the whole library.
    def upload(title: str) -> str:
        params = {"file_url": f"https://cdn.example.com/{len(title)}.mp4", "title": title}
        return account.create_ad_video(params=params)["id"]

    wanted = upload("mojito-asset-7f3a")
    upload("mojito-asset-7f3a (copy)")
    upload("mojito-asset-0000")

    found = account.get_ad_videos(fields=["title"], params={"title": "mojito-asset-7f3a"})
    assert [(video["id"], video["title"]) for video in found] == [(wanted, "mojito-asset-7f3a")]
    assert list(account.get_ad_videos(params={"title": "mojito-asset-none"})) == []
    assert len(list(account.get_ad_videos())) == 3


def test_sdk_raises_meta_errors(account: AdAccount) -> None:
    with pytest.raises(FacebookRequestError) as caught:
        account.create_campaign(params={**CAMPAIGN, "special_ad_categories": None})
    error = caught.value
    assert error.api_error_code() == 100
    assert error.api_error_message() == "(#100) The parameter special_ad_categories is required"
    assert error.http_status() == 400
    assert error.api_transient_error() is False


def test_sdk_batch_via_new_batch(sandbox: Sandbox, account: AdAccount) -> None:
    api = account.get_api()
    campaign = account.create_campaign(params=CAMPAIGN)
    second = account.create_campaign(params={**CAMPAIGN, "name": "Second"})
    batch = api.new_batch()
    results: dict[str, object] = {}

    def ok(name: str):
        def callback(response: FacebookResponse) -> None:
            results[name] = response.json()

        return callback

    def failed(name: str):
        def callback(response: FacebookResponse) -> None:
            results[name] = response.error()

        return callback

    account.create_ad_set(
        params=adset_params(campaign["id"], name="A"),
        batch=batch,
        success=ok("a"),
        failure=failed("a"),
    )
    account.create_ad_set(
        params=adset_params(second["id"], name="B", targeting={"age_min": 20}),
        batch=batch,
        success=ok("b"),
        failure=failed("b"),
    )
    Campaign(campaign["id"], api=api).api_get(
        fields=["name"], batch=batch, success=ok("read"), failure=failed("read")
    )
    assert batch.execute() is None

    assert "id" in results["a"]
    error = results["b"]
    assert isinstance(error, FacebookRequestError)
    assert error.api_error_code() == 100
    assert error.body()["error"]["error_user_title"] == "Location is required"
    assert error.api_blame_field_specs() == [["targeting", "geo_locations"]]
    assert results["read"] == {"name": "Spring sale", "id": campaign["id"]}
    log = sandbox.state.request_log()
    assert [len(entry.get("operations", [])) for entry in log][-1] == 3


def test_raw_batch_with_named_operations_and_references(
    sandbox: Sandbox, api: FacebookAdsApi
) -> None:
    targeting = json.dumps({"geo_locations": {"countries": ["US"]}})
    batch = [
        {
            "method": "POST",
            "name": "campaign",
            "relative_url": f"{ACT}/campaigns",
            "body": "name=Batch&objective=OUTCOME_TRAFFIC&status=PAUSED&special_ad_categories=[]"
            "&is_adset_budget_sharing_enabled=false",
        },
        {
            "method": "POST",
            "name": "adset",
            "relative_url": f"{ACT}/adsets",
            "body": "name=Set&campaign_id={result=campaign:$.id}&billing_event=IMPRESSIONS"
            f"&optimization_goal=REACH&daily_budget=2000&targeting={targeting}",
        },
        {"method": "GET", "relative_url": "{result=adset:$.id}?fields=name,campaign_id"},
    ]
    response = api.call("POST", (), params={"batch": batch})
    answers = response.json()
    assert answers[0] is None and answers[1] is None  # referenced, so omitted on success
    body = json.loads(answers[2]["body"])
    assert answers[2]["code"] == 200
    campaign = sandbox.objects("campaign")[0]
    assert body["campaign_id"] == campaign["id"]
    assert body["name"] == "Set"


def test_appsecret_proof_from_the_sdk_session(sandbox: Sandbox) -> None:
    sandbox.configure(app_secret="s3cret")
    good = make_api(sandbox, app_secret="s3cret")
    assert AdAccount(ACT, api=good).api_get(fields=["name"])["name"] == "Sandbox Demo Account"

    wrong = make_api(sandbox, app_secret="other")
    with pytest.raises(FacebookRequestError) as caught:
        AdAccount(ACT, api=wrong).api_get(fields=["name"])
    assert caught.value.api_error_code() == 100
    assert caught.value.api_error_message() == (
        "Invalid appsecret_proof provided in the API argument"
    )

    missing = make_api(sandbox)
    with pytest.raises(FacebookRequestError) as caught:
        AdAccount(ACT, api=missing).api_get(fields=["name"])
    assert caught.value.api_error_message() == (
        "API calls from the server require an appsecret_proof argument"
    )


def test_expired_token_through_the_sdk(sandbox: Sandbox, account: AdAccount) -> None:
    sandbox.control("POST", "tokens/expire", token=DEMO_TOKEN)
    with pytest.raises(FacebookRequestError) as caught:
        account.api_get(fields=["name"])
    assert caught.value.api_error_code() == 190
    assert caught.value.api_error_subcode() == 463


def test_video_status_through_the_sdk_status_checker(sandbox: Sandbox, api: FacebookAdsApi) -> None:
    sandbox.configure(video_ready_after=60)
    response = sandbox.post(
        f"{ACT}/advideos", files={"source": ("clip.mp4", mp4_bytes(), "video/mp4")}
    )
    video_id = response.json()["id"]
    status = VideoEncodingStatusChecker.getStatus(api, video_id)
    assert status["video_status"] == "processing"
    sandbox.configure(video_ready_after=0.2)
    VideoEncodingStatusChecker.waitUntilReady(api, video_id, interval=0.1, timeout=5)
    assert VideoEncodingStatusChecker.getStatus(api, video_id)["video_status"] == "ready"


def test_sdk_uses_default_version(sandbox: Sandbox, account: AdAccount) -> None:
    account.api_get(fields=["name"])
    assert sandbox.state.request_log()[-1]["path"] == f"/{VERSION}/{ACT}"
