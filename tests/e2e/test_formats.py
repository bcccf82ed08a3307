"""Every creative format a client can submit, through a real worker to the sandbox over HTTP,
to SUCCESS: what the sandbox received is what Meta's 2025-2026 rules ask for (the Advantage+
audience flag on each ad set, each Advantage+ creative feature opted out unless asked for), in
both execution modes."""

from __future__ import annotations

from typing import Any

import pytest

from platforms.meta import rules
from platforms.meta.demo import example_job
from tests.e2e.harness import EXECUTION_MODES, JPEG, PNG, THUMB_PNG, Harness, md5, tree_ids


@pytest.fixture(scope="module", params=EXECUTION_MODES)
def worker(request, celery_procs):
    """Each format in both execution modes: batched operations and single requests differ in
    how parameters travel (form-encoded in a batch body, or by the SDK)."""
    return celery_procs.ensure_worker({"META_EXECUTION_MODE": request.param})


def only(e2e: Harness, object_type: str) -> dict[str, Any]:
    (obj,) = e2e.sandbox_objects(object_type)
    return obj["fields"]


def features_sent(creative: dict[str, Any]) -> dict[str, str]:
    spec = creative["degrees_of_freedom_spec"]["creative_features_spec"]
    return {name: value["enroll_status"] for name, value in spec.items()}


def assert_all_opted_out_but(creative: dict[str, Any], *opted_in: str) -> None:
    assert features_sent(creative) == {
        name: "OPT_IN" if name in opted_in else "OPT_OUT" for name in rules.CREATIVE_FEATURES
    }


def submit_creative(e2e: Harness, creative: dict[str, Any]) -> dict[str, Any]:
    body = e2e.body([("Format set", [{"name": "Format ad", "creative": creative}])])
    job = e2e.wait_for_job(e2e.submit(body), "SUCCESS")
    assert job["attempts"] == 1 and job["error"] is None
    ids = tree_ids(job)
    assert ids["adcreative"] == [o["id"] for o in e2e.sandbox_objects("adcreative")]
    return job


def test_the_readme_example_job_reaches_success(e2e: Harness) -> None:
    body = example_job(
        ad_account_id=e2e.account.id,
        page_id=e2e.account.page_id,
        image_url=e2e.images.url("/a.png"),
    )
    job = e2e.wait_for_job(e2e.submit(body), "SUCCESS")
    assert all(tree_ids(job).values())
    # Ages 18-35 narrow the audience: Meta refuses such an ad set without the flag (v23.0+).
    assert only(e2e, "adset")["targeting"]["targeting_automation"] == {"advantage_audience": 0}
    assert_all_opted_out_but(only(e2e, "adcreative"))


def test_a_carousel_of_images_and_a_video_reaches_success(e2e: Harness) -> None:
    creative = e2e.creative("Carousel", image_url=None)
    creative["image_url"] = None
    creative["cards"] = [
        {"link": "https://example.com/1", "headline": "One", "image_url": e2e.images.url("/a.png")},
        {
            "link": "https://example.com/2",
            "headline": "Two",
            "description": "Second card",
            "call_to_action": {"type": "LEARN_MORE"},
            "image_url": e2e.images.url("/b.jpg"),
        },
        {
            "link": "https://example.com/3",
            "video_url": e2e.images.url("/video.mp4"),
            "thumbnail_url": e2e.images.url("/thumb.png"),
        },
    ]
    job = submit_creative(e2e, creative)

    sent = only(e2e, "adcreative")
    link_data = sent["object_story_spec"]["link_data"]
    (video,) = e2e.sandbox_objects("advideo")
    assert [card["link"] for card in link_data["child_attachments"]] == [
        "https://example.com/1",
        "https://example.com/2",
        "https://example.com/3",
    ]
    first, second, third = link_data["child_attachments"]
    assert (first["image_hash"], first["name"]) == (md5(PNG), "One")
    assert second["image_hash"] == md5(JPEG)
    assert second["call_to_action"] == {
        "type": "LEARN_MORE",
        "value": {"link": "https://example.com/2"},
    }
    assert (third["video_id"], third["image_hash"]) == (video["id"], md5(THUMB_PNG))
    assert link_data["multi_share_optimized"] is False
    assert_all_opted_out_but(sent)
    assert job["campaign"]["ad_sets"][0]["ads"][0]["creative"]["platform_id"]


def test_an_existing_facebook_post_reaches_success(e2e: Harness) -> None:
    post = e2e.control("POST", "posts", page_id=e2e.account.page_id, message="Our summer post")
    creative = {"name": "Boosted post", "object_story_id": post["id"]}
    submit_creative(e2e, creative)

    sent = only(e2e, "adcreative")
    assert sent["object_story_id"] == post["id"]
    assert "object_story_spec" not in sent
    assert_all_opted_out_but(sent)


def test_an_existing_instagram_post_reaches_success(e2e: Harness) -> None:
    instagram_user_id = "17841400000000077"
    media = e2e.control("POST", "instagram_media", instagram_user_id=instagram_user_id)
    creative = {
        "name": "Instagram post",
        "page_id": e2e.account.page_id,
        "instagram_user_id": instagram_user_id,
        "source_instagram_media_id": media["id"],
        "link": "https://example.com/shop",
        "call_to_action": {"type": "SHOP_NOW"},
    }
    submit_creative(e2e, creative)

    sent = only(e2e, "adcreative")
    assert sent["source_instagram_media_id"] == media["id"]
    assert sent["instagram_user_id"] == instagram_user_id
    assert sent["object_id"] == e2e.account.page_id
    assert sent["call_to_action"] == {
        "type": "SHOP_NOW",
        "value": {"link": "https://example.com/shop"},
    }
    assert_all_opted_out_but(sent)


def test_creative_features_the_client_opts_in_are_sent_opted_in(e2e: Harness) -> None:
    creative = e2e.creative("Enhanced")
    creative["creative_features"] = {"image_touchups": "OPT_IN", "inline_comment": "OPT_IN"}
    submit_creative(e2e, creative)
    assert_all_opted_out_but(only(e2e, "adcreative"), "image_touchups", "inline_comment")


def test_advantage_audience_follows_the_targeting_or_the_client(e2e: Harness) -> None:
    broad = {"geo_locations": {"countries": ["US"]}}
    chosen = {
        "geo_locations": {"countries": ["CA"]},
        "targeting_automation": {"advantage_audience": 0},
    }
    narrow = {"geo_locations": {"countries": ["GB"]}, "genders": [2]}
    body = e2e.body(
        [(name, [e2e.ad(f"{name} ad")]) for name in ("Broad", "Chosen", "Narrow")],
    )
    for ad_set, targeting in zip(body["ad_sets"], (broad, chosen, narrow), strict=True):
        ad_set["targeting"] = targeting
    e2e.wait_for_job(e2e.submit(body), "SUCCESS")
    flags = {
        o["fields"]["name"]: o["fields"]["targeting"]["targeting_automation"]["advantage_audience"]
        for o in e2e.sandbox_objects("adset")
    }
    assert flags == {"Broad": 1, "Chosen": 0, "Narrow": 0}


def test_an_eu_ad_set_takes_beneficiary_and_payor_from_the_account(e2e: Harness) -> None:
    response = e2e.client.patch(
        f"/api/v1/ad_accounts/{e2e.account.id}",
        {"additional_config": {"dsa_beneficiary": "Acme GmbH", "dsa_payor": "Acme Holding SE"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = e2e.body(targeting={"geo_locations": {"countries": ["DE", "AT"]}})
    e2e.wait_for_job(e2e.submit(body), "SUCCESS")
    ad_set = only(e2e, "adset")
    assert (ad_set["dsa_beneficiary"], ad_set["dsa_payor"]) == ("Acme GmbH", "Acme Holding SE")


def test_the_videos_of_a_carousel_are_all_handed_to_meta_before_the_first_wait(
    e2e: Harness,
) -> None:
    creative = e2e.creative("Video carousel", image_url=None)
    creative["cards"] = [
        {
            "link": f"https://example.com/{i}",
            "video_url": e2e.images.url(f"/video-{i}.mp4"),
            "thumbnail_url": e2e.images.url("/thumb.png"),
        }
        for i in range(3)
    ]
    submit_creative(e2e, creative)

    log = e2e.sandbox_requests()
    uploads = [i for i, r in enumerate(log) if r["method"] == "POST" and "/advideos" in r["path"]]
    reads = [i for i, r in enumerate(log) if r["method"] == "GET" and r["path"].count("/") == 2]
    assert len(uploads) == 3
    # Encoding runs in parallel on Meta: the job does not wait for one video to hand over the
    # next (each status read before the last upload belongs to no video at all).
    assert max(uploads) < min(reads)
    (sent,) = e2e.sandbox_objects("adcreative")
    cards = sent["fields"]["object_story_spec"]["link_data"]["child_attachments"]
    assert sorted(c["video_id"] for c in cards) == sorted(
        v["id"] for v in e2e.sandbox_objects("advideo")
    )
