"""Happy paths: what a client submits ends up on Meta, once, with every id recorded."""

from __future__ import annotations

from campaigns.services import job_publish
from tests.e2e.harness import (
    JPEG,
    PNG,
    THUMB_PNG,
    Harness,
    graph_writes,
    md5,
    publishing_broken,
    tree_ids,
)


def sandbox_ids(e2e: Harness, object_type: str) -> list[str]:
    return [o["id"] for o in e2e.sandbox_objects(object_type)]


def test_one_campaign_one_ad_set_one_ad_with_image_url(e2e: Harness) -> None:
    job_id = e2e.submit(e2e.body())
    job = e2e.wait_for_job(job_id, "SUCCESS")

    (campaign,) = e2e.sandbox_objects("campaign")
    (ad_set,) = e2e.sandbox_objects("adset")
    (creative,) = e2e.sandbox_objects("adcreative")
    (ad,) = e2e.sandbox_objects("ad")
    (image,) = e2e.sandbox_objects("adimage")
    assert tree_ids(job) == {
        "campaign": [campaign["id"]],
        "adset": [ad_set["id"]],
        "ad": [ad["id"]],
        "adcreative": [creative["id"]],
    }
    assert job["platform_campaign_id"] == campaign["id"]
    assert job["attempts"] == 1
    assert job["error"] is None
    assert job["started_at"] and job["finished_at"]

    # The image the worker fetched is the one on Meta, and the creative uses it.
    assert image["fields"]["hash"] == md5(PNG)
    assert creative["fields"]["image_hash"] == md5(PNG)
    story = creative["fields"]["object_story_spec"]
    assert story["page_id"] == e2e.account.page_id
    assert story["link_data"]["image_hash"] == md5(PNG)
    assert e2e.images.requests == ["/a.png"]

    # The tree hangs together on Meta, and everything was created PAUSED.
    assert ad_set["parent_id"] == campaign["id"]
    assert ad["parent_id"] == ad_set["id"]
    assert ad["fields"]["creative"]["id"] == creative["id"]
    for obj in (campaign, ad_set, ad):
        assert obj["fields"]["status"] == "PAUSED", obj
    assert campaign["fields"]["name"] == "E2E campaign"
    assert ad_set["fields"]["name"] == "E2E ad set"
    assert ad["fields"]["name"] == "E2E ad"

    # Every object carries the job's label (the marker found again after a crash).
    label = f"mojito-job-{job_id}"
    for obj in (campaign, ad_set, creative, ad):
        assert label in {lb.get("name") for lb in obj["fields"].get("adlabels") or []}, obj


def test_two_by_two_tree_mixing_media_sources(e2e: Harness) -> None:
    # Made before the job, as a client would: an uploaded image and a creative.
    jpeg_hash = e2e.upload_image(JPEG)
    existing_creative = e2e.existing_creative("Existing creative", e2e.upload_image(THUMB_PNG))
    before = e2e.last_request_seq()
    shared_png = e2e.images.url("/a.png")

    body = e2e.body(
        [
            (
                "Set A",
                [
                    e2e.ad("Ad A1", image_url=shared_png),
                    e2e.ad("Ad A2", image_hash=jpeg_hash),
                ],
            ),
            (
                "Set B",
                [
                    e2e.ad("Ad B1", creative_id=existing_creative),
                    e2e.ad("Ad B2", image_url=shared_png),
                ],
            ),
        ]
    )
    job_id = e2e.submit(body)
    job = e2e.wait_for_job(job_id, "SUCCESS")
    ids = tree_ids(job)

    campaigns = sandbox_ids(e2e, "campaign")
    assert ids["campaign"] == campaigns and len(campaigns) == 1
    assert sorted(ids["adset"]) == sorted(sandbox_ids(e2e, "adset"))
    assert sorted(ids["ad"]) == sorted(sandbox_ids(e2e, "ad"))
    assert len(set(ids["ad"])) == 4 and len(set(ids["adset"])) == 2
    assert ids["adcreative"][2] == existing_creative
    # Three new creatives plus the existing one, nothing else.
    assert sorted(set(ids["adcreative"])) == sorted(sandbox_ids(e2e, "adcreative"))
    assert len(set(ids["adcreative"])) == 4
    assert job["platform_campaign_id"] == campaigns[0]
    assert job["attempts"] == 1

    by_id = {c["id"]: c for c in e2e.sandbox_objects("adcreative")}
    hashes = [by_id[c]["fields"].get("image_hash") for c in ids["adcreative"]]
    assert hashes == [md5(PNG), md5(JPEG), md5(THUMB_PNG), md5(PNG)]
    ads = {a["id"]: a for a in e2e.sandbox_objects("ad")}
    assert [ads[a]["fields"]["creative"]["id"] for a in ids["ad"]] == ids["adcreative"]
    assert [ads[a]["parent_id"] for a in ids["ad"]] == [ids["adset"][i] for i in (0, 0, 1, 1)]
    existing = job["campaign"]["ad_sets"][1]["ads"][0]["creative"]
    assert existing["is_existing"] is True

    # The shared image was fetched and uploaded once.
    uploads = [
        r
        for r in e2e.sandbox_requests(since=before)
        if r["method"] == "POST" and r["path"].endswith("/adimages")
    ]
    assert len(uploads) == 1, uploads
    assert e2e.images.requests == ["/a.png"]


def test_video_with_thumbnail_waits_for_processing(e2e: Harness) -> None:
    e2e.configure(video_ready_after=1.0)
    video_url = e2e.images.url("/video.mp4")
    body = e2e.body(
        [
            (
                "Video set",
                [
                    e2e.ad(
                        "Video ad",
                        video_url=video_url,
                        thumbnail_url=e2e.images.url("/thumb.png"),
                    )
                ],
            )
        ]
    )
    job_id = e2e.submit(body)
    job = e2e.wait_for_job(job_id, "SUCCESS")

    (video,) = e2e.sandbox_objects("advideo")
    (creative,) = e2e.sandbox_objects("adcreative")
    (ad,) = e2e.sandbox_objects("ad")
    video_data = creative["fields"]["object_story_spec"]["video_data"]
    assert video_data["video_id"] == video["id"]
    assert video_data["image_hash"] == md5(THUMB_PNG)
    assert tree_ids(job)["adcreative"] == [creative["id"]]
    assert tree_ids(job)["ad"] == [ad["id"]]
    # Waiting for Meta's processing is not a failed attempt.
    assert job["attempts"] == 1
    assert job["error"] is None

    log = graph_writes(e2e.sandbox_requests())
    (upload,) = [w for w in log if w["path"].endswith("/advideos")]
    # Meta is handed the URL; mojito never downloads a video itself.
    assert upload["params"]["file_url"] == video_url
    assert "/video.mp4" not in e2e.images.requests
    status_reads = [
        r for r in e2e.sandbox_requests() if r["method"] == "GET" and video["id"] in r["path"]
    ]
    (creative_create,) = [w for w in log if w["path"].endswith("/adcreatives")]
    # The video was looked at while still processing, then again once ready; the creative
    # was sent only after that, and once.
    assert len(status_reads) >= 2, status_reads
    assert creative_create["status"] == 200
    assert creative_create["time"] - video["created_time"] >= 1.0


def test_idempotent_replay_runs_the_job_once(e2e: Harness) -> None:
    body = e2e.body()
    first = e2e.client.post(
        "/api/v1/ads/meta", body, format="json", HTTP_IDEMPOTENCY_KEY="e2e-replay-1"
    )
    assert first.status_code == 202, first.content
    job_id = first.json()["id"]
    e2e.wait_for_job(job_id, "SUCCESS")

    again = e2e.client.post(
        "/api/v1/ads/meta", body, format="json", HTTP_IDEMPOTENCY_KEY="e2e-replay-1"
    )
    assert again.status_code == 202
    assert again.json()["id"] == job_id
    assert again.json()["status"] == "SUCCESS"
    for kind in ("campaign", "adset", "adcreative", "ad"):
        assert len(e2e.sandbox_objects(kind)) == 1, kind


def test_a_job_delivered_many_times_runs_once(e2e: Harness) -> None:
    e2e.configure(latency_ms=50)
    job_id = e2e.submit(e2e.body([("Set", [e2e.ad("Ad 1"), e2e.ad("Ad 2")])]))
    for _ in range(6):  # as if the broker redelivered it to every worker thread
        job_publish(job_id=job_id)
    job = e2e.wait_for_job(job_id, "SUCCESS")

    assert job["attempts"] == 1
    assert len(e2e.sandbox_objects("campaign")) == 1
    assert len(e2e.sandbox_objects("ad")) == 2
    uploads = [r for r in e2e.sandbox_requests() if r["path"].endswith("/adimages")]
    assert len(uploads) == 1


def test_many_jobs_of_one_account_at_once(e2e: Harness) -> None:
    job_ids = [e2e.submit(e2e.body(campaign_name=f"Burst {i}")) for i in range(8)]
    jobs = [e2e.wait_for_job(job_id, "SUCCESS") for job_id in job_ids]

    campaigns = {c["fields"]["name"]: c for c in e2e.sandbox_objects("campaign")}
    assert sorted(campaigns) == sorted(f"Burst {i}" for i in range(8))
    assert len(e2e.sandbox_objects("ad")) == 8
    for i, job in enumerate(jobs):
        campaign = campaigns[f"Burst {i}"]
        assert job["platform_campaign_id"] == campaign["id"]
        labels = {lb["name"] for lb in campaign["fields"]["adlabels"]}
        assert labels == {f"mojito-job-{job['id']}"}
        assert job["attempts"] == 1


def test_existing_video_without_thumbnail_uses_metas_picture(e2e: Harness) -> None:
    e2e.configure(video_ready_after=0.0)
    video_id = e2e.graph(
        "POST",
        f"{e2e.account.act_id}/advideos",
        file_url="https://videos.example.com/clip.mp4",
        title="Uploaded by the client",
    )["id"]
    picture = e2e.graph("GET", video_id, fields="picture").get("picture")
    ad = e2e.ad("Video ad", video_id=video_id)
    job_id = e2e.submit(e2e.body([("Video set", [ad])]))
    job = e2e.wait_for_job(job_id, "SUCCESS")

    (creative,) = e2e.sandbox_objects("adcreative")
    video_data = creative["fields"]["object_story_spec"]["video_data"]
    assert video_data["video_id"] == video_id
    # Meta's own thumbnail of the video (AdVideo.picture), as the client gave none.
    assert picture and video_data["image_url"] == picture
    assert tree_ids(job)["adcreative"] == [creative["id"]]


def test_a_cancelled_job_never_reaches_meta(e2e: Harness) -> None:
    with e2e.sweeper_paused():
        with publishing_broken():
            job_id = e2e.submit(e2e.body())
        cancelled = e2e.client.post(f"/api/v1/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "CANCELLED"
    job_publish(job_id=job_id)  # a late delivery of its message
    assert e2e.procs.worker is not None
    e2e.procs.worker.wait_for_log(rf"Job {job_id} not claimable", timeout=10)

    job = e2e.job(job_id)
    assert job["status"] == "CANCELLED" and job["attempts"] == 0
    assert e2e.sandbox_requests() == []
    assert e2e.client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 409
    assert e2e.client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 409
