"""Managing live objects end to end: the API accepts a change as a job, a real worker applies
it on the sandbox, and the local rows follow only once Meta accepted it."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import PNG, Harness, graph_writes, md5


def live_campaign(e2e: Harness, ad_sets: int = 1) -> dict[str, Any]:
    """A campaign made through the API, with every object on the sandbox; its detail."""
    body = e2e.body(
        [(f"Set {n}", [e2e.ad(f"Ad {n}")]) for n in range(ad_sets)], campaign_name="Live"
    )
    job = e2e.wait_for_job(e2e.submit(body), "SUCCESS")
    return get(e2e, f"/api/v1/campaigns/{job['campaign']['id']}")


def get(e2e: Harness, path: str) -> dict[str, Any]:
    response = e2e.client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def accepted(response: Any, kind: str) -> str:
    """A 202 with a job of `kind` and its Location; the job id."""
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["kind"] == kind, job
    assert response["Location"] == f"/api/v1/jobs/{job['id']}"
    return job["id"]


def patch(e2e: Harness, path: str, body: dict[str, Any], kind: str = "UPDATE") -> dict[str, Any]:
    job_id = accepted(e2e.client.patch(path, body, format="json"), kind)
    return e2e.wait_for_job(job_id, "SUCCESS")


def on_meta(e2e: Harness, platform_id: str, fields: str = "name,status") -> dict[str, Any]:
    """The object as Meta answers a read of it."""
    return e2e.graph("GET", platform_id, fields=fields)


def test_pause_resume_budget_and_rename_reach_meta_and_the_rows(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    ad_set = campaign["ad_sets"][0]
    path = f"/api/v1/ad_sets/{ad_set['id']}"

    job = patch(e2e, path, {"status": "ACTIVE"})
    assert job["object_type"] == "ad_set" and job["object_id"] == ad_set["id"]
    assert on_meta(e2e, ad_set["platform_id"])["status"] == "ACTIVE"
    assert get(e2e, path)["status"] == "ACTIVE"

    patch(e2e, path, {"status": "PAUSED", "daily_budget": 3100, "name": "Set renamed"})
    seen = on_meta(e2e, ad_set["platform_id"], "name,status,daily_budget")
    assert (seen["status"], seen["daily_budget"], seen["name"]) == ("PAUSED", "3100", "Set renamed")
    local = get(e2e, path)
    assert (local["status"], local["daily_budget"], local["name"]) == (
        "PAUSED",
        3100,
        "Set renamed",
    )

    campaign_path = f"/api/v1/campaigns/{campaign['id']}"
    patch(e2e, campaign_path, {"name": "Live, renamed"})
    assert on_meta(e2e, campaign["platform_id"])["name"] == "Live, renamed"
    assert get(e2e, campaign_path)["name"] == "Live, renamed"


def test_a_new_creative_is_created_and_swapped_onto_the_ad(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    ad = campaign["ad_sets"][0]["ads"][0]
    old_creative = ad["creative"]["platform_id"]
    new_creative = e2e.creative("Creative v2", image_url=e2e.images.url("/a.png"))
    new_creative["headline"] = "A new headline"

    patch(e2e, f"/api/v1/ads/{ad['id']}", {"creative": new_creative})

    swapped = on_meta(e2e, ad["platform_id"], "creative")["creative"]["id"]
    assert swapped != old_creative
    (made,) = e2e.named("adcreative", "Creative v2")
    assert made["id"] == swapped
    assert made["fields"]["object_story_spec"]["link_data"]["name"] == "A new headline"
    assert made["fields"]["object_story_spec"]["link_data"]["image_hash"] == md5(PNG)
    assert get(e2e, f"/api/v1/ads/{ad['id']}")["creative"]["platform_id"] == swapped
    # Meta's creatives cannot change: the old one is still there, untouched.
    assert [c["id"] for c in e2e.sandbox_objects("adcreative") if c["id"] == old_creative]


def test_a_change_meta_refuses_leaves_the_object_as_it_was(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    ad_set = campaign["ad_sets"][0]
    e2e.control("POST", "faults", fault="permanent", path_contains=ad_set["platform_id"])

    job_id = accepted(
        e2e.client.patch(
            f"/api/v1/ad_sets/{ad_set['id']}",
            {"name": "Never", "daily_budget": 4000},
            format="json",
        ),
        "UPDATE",
    )
    job = e2e.wait_for_job(job_id, "FAILED")

    assert job["error"]["code"] and job["error"]["message"]
    local = get(e2e, f"/api/v1/ad_sets/{ad_set['id']}")
    assert (local["name"], local["daily_budget"]) == (ad_set["name"], ad_set["daily_budget"])
    assert on_meta(e2e, ad_set["platform_id"])["name"] == ad_set["name"]


def test_two_changes_of_one_object_apply_in_the_order_accepted(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    path = f"/api/v1/campaigns/{campaign['id']}"
    first = accepted(e2e.client.patch(path, {"name": "First"}, format="json"), "UPDATE")
    second = accepted(e2e.client.patch(path, {"name": "Second"}, format="json"), "UPDATE")

    e2e.wait_for_job(first, "SUCCESS")
    e2e.wait_for_job(second, "SUCCESS")

    # Meta was sent the first, then the second.
    renames = [
        call["params"].get("name")
        for call in graph_writes(e2e.sandbox_requests())
        if call["method"] == "POST" and call["path"].endswith(campaign["platform_id"])
    ]
    assert renames == ["First", "Second"]
    assert on_meta(e2e, campaign["platform_id"])["name"] == "Second"
    assert get(e2e, path)["name"] == "Second"


def test_a_cascade_pauses_the_whole_campaign_in_one_job(e2e: Harness) -> None:
    campaign = live_campaign(e2e, ad_sets=2)
    path = f"/api/v1/campaigns/{campaign['id']}"
    patch(e2e, f"{path}?cascade=true", {"status": "ACTIVE"})

    tree = get(e2e, path)
    objects = [tree, *tree["ad_sets"], *(ad for s in tree["ad_sets"] for ad in s["ads"])]
    assert len(objects) == 5
    for obj in objects:
        assert obj["status"] == "ACTIVE", obj
        assert on_meta(e2e, obj["platform_id"])["status"] == "ACTIVE"


def test_archive_sets_the_campaign_archived_on_meta(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    path = f"/api/v1/campaigns/{campaign['id']}"
    e2e.wait_for_job(accepted(e2e.client.delete(path), "ARCHIVE"), "SUCCESS")

    assert on_meta(e2e, campaign["platform_id"])["status"] == "ARCHIVED"
    assert get(e2e, path)["status"] == "ARCHIVED"
    # Never Meta's irreversible delete.
    assert not any(r["method"] == "DELETE" for r in e2e.sandbox_requests())


def test_an_ad_set_and_an_ad_added_to_a_live_campaign(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    ad_set_body = e2e.body([("Added set", [e2e.ad("Added ad")])])["ad_sets"]
    job_id = accepted(
        e2e.client.post(
            f"/api/v1/campaigns/{campaign['id']}/ad_sets", {"ad_sets": ad_set_body}, format="json"
        ),
        "CREATE",
    )
    e2e.wait_for_job(job_id, "SUCCESS")
    (added_set,) = e2e.named("adset", "Added set")
    assert added_set["parent_id"] == campaign["platform_id"]
    assert len(e2e.sandbox_objects("campaign")) == 1

    first_set = campaign["ad_sets"][0]
    job_id = accepted(
        e2e.client.post(
            f"/api/v1/ad_sets/{first_set['id']}/ads",
            {"ads": [e2e.ad("Second ad")]},
            format="json",
        ),
        "CREATE",
    )
    e2e.wait_for_job(job_id, "SUCCESS")
    (added_ad,) = e2e.named("ad", "Second ad")
    assert added_ad["parent_id"] == first_set["platform_id"]

    tree = get(e2e, f"/api/v1/campaigns/{campaign['id']}")
    names = {s["name"]: [a["name"] for a in s["ads"]] for s in tree["ad_sets"]}
    assert names == {first_set["name"]: ["Ad 0", "Second ad"], "Added set": ["Added ad"]}


def test_a_campaign_made_on_meta_is_imported_then_changed(e2e: Harness) -> None:
    act = e2e.account.act_id
    made = e2e.graph(
        "POST",
        f"{act}/campaigns",
        name="Built in Ads Manager",
        objective="OUTCOME_TRAFFIC",
        status="PAUSED",
        special_ad_categories=[],
        is_adset_budget_sharing_enabled=False,
    )["id"]
    ad_set = e2e.graph(
        "POST",
        f"{act}/adsets",
        name="Manager set",
        campaign_id=made,
        daily_budget=2500,
        billing_event="IMPRESSIONS",
        optimization_goal="LINK_CLICKS",
        bid_strategy="LOWEST_COST_WITHOUT_CAP",
        destination_type="WEBSITE",
        status="PAUSED",
        start_time="2030-01-01T00:00:00+0000",
        targeting={
            "geo_locations": {"countries": ["US"]},
            "targeting_automation": {"advantage_audience": 1},
        },
    )["id"]
    creative = e2e.existing_creative("Manager creative", e2e.upload_image(PNG))
    e2e.graph(
        "POST",
        f"{act}/ads",
        name="Manager ad",
        adset_id=ad_set,
        creative={"creative_id": creative},
        status="PAUSED",
    )

    body = {"ad_account_id": e2e.account.id, "platform_id": made}
    job_id = accepted(e2e.client.post("/api/v1/campaigns/import", body, format="json"), "IMPORT")
    e2e.wait_for_job(job_id, "SUCCESS")
    again = e2e.client.post("/api/v1/campaigns/import", body, format="json")
    assert again.status_code == 409, again.content

    listed = get(e2e, "/api/v1/campaigns")["results"]
    (imported,) = [c for c in listed if c["platform_id"] == made]
    tree = get(e2e, f"/api/v1/campaigns/{imported['id']}")
    (local_set,) = tree["ad_sets"]
    assert (local_set["name"], local_set["platform_id"], local_set["daily_budget"]) == (
        "Manager set",
        ad_set,
        2500,
    )
    assert local_set["ads"][0]["creative"]["platform_id"] == creative

    patch(e2e, f"/api/v1/ad_sets/{local_set['id']}", {"daily_budget": 2700})
    assert on_meta(e2e, ad_set, "daily_budget")["daily_budget"] == "2700"


def test_the_budget_change_limit_answers_400_without_calling_meta(e2e: Harness) -> None:
    campaign = live_campaign(e2e)
    path = f"/api/v1/ad_sets/{campaign['ad_sets'][0]['id']}"
    budgets = [2100, 2200, 2300, 2400]
    for budget in budgets:
        patch(e2e, path, {"daily_budget": budget})
    before = e2e.last_request_seq()

    refused = e2e.client.patch(path, {"daily_budget": 2500}, format="json")

    assert refused.status_code == 400, refused.content
    (error,) = refused.json()["errors"]
    assert error["attr"] == "daily_budget"
    assert "next" in error["detail"].lower()
    assert e2e.last_request_seq() == before
    assert get(e2e, path)["daily_budget"] == budgets[-1]
