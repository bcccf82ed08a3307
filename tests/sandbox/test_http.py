"""The sandbox over plain HTTP (requests): auth, reads, usage, throttling, faults, media, batch."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote

import pytest
import requests

from platforms.meta.sandbox import DEMO_ACCOUNT_ID, DEMO_PAGE_ID, DEMO_TOKEN

from .conftest import ACT, OTHER_ACCOUNT_ID, OTHER_TOKEN, VERSION, Sandbox, mp4_bytes, png_bytes

ERROR_KEYS = {"message", "type", "code", "is_transient", "fbtrace_id"}


def error_of(response: requests.Response) -> dict:
    body = response.json()
    assert "error" in body, body
    assert set(body["error"]) >= ERROR_KEYS
    return body["error"]


# --- tokens and appsecret_proof -------------------------------------------------------------------


def test_ad_account_read_honours_fields(sandbox: Sandbox) -> None:
    response = sandbox.get(ACT, fields="name,account_status,currency,timezone_name")
    assert response.status_code == 200
    assert response.json() == {
        "name": "Sandbox Demo Account",
        "account_status": 1,
        "currency": "USD",
        "timezone_name": "America/Los_Angeles",
        "id": ACT,
    }
    assert sandbox.get(ACT).json() == {"id": ACT}
    assert response.headers["facebook-api-version"] == VERSION


def test_any_version_is_served(sandbox: Sandbox) -> None:
    for version in ("v25.0", "v27.0", "v31.2"):
        response = requests.get(
            sandbox.url(ACT, version=version), params={"access_token": DEMO_TOKEN}, timeout=5
        )
        assert response.status_code == 200, version


def test_versions_before_v25_are_deprecated_by_default(sandbox: Sandbox) -> None:
    # Marketing API v24.0 was available until November 10, 2026.
    for version in ("v24.0", "v15.0"):
        old = requests.get(
            sandbox.url(ACT, version=version), params={"access_token": DEMO_TOKEN}, timeout=5
        )
        assert error_of(old)["code"] == 2635, version
    sandbox.configure(min_api_version="v24.0")
    response = requests.get(
        sandbox.url(ACT, version="v24.0"), params={"access_token": DEMO_TOKEN}, timeout=5
    )
    assert response.status_code == 200


def test_missing_token_is_code_104(sandbox: Sandbox) -> None:
    response = sandbox.get(ACT, token=None)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 104
    assert error["type"] == "OAuthException"


def test_unknown_token_is_code_190_without_subcode(sandbox: Sandbox) -> None:
    response = sandbox.get(ACT, token="not-a-token")
    error = error_of(response)
    assert (response.status_code, error["code"]) == (400, 190)
    assert "error_subcode" not in error
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_expired_token_is_190_463_until_revived(sandbox: Sandbox) -> None:
    sandbox.control("POST", "tokens/expire", token=DEMO_TOKEN)
    error = error_of(sandbox.get(ACT))
    assert (error["code"], error["error_subcode"]) == (190, 463)
    assert error["message"].startswith("Error validating access token: Session has expired")
    sandbox.control("POST", "tokens/expire", token=DEMO_TOKEN, expired=False)
    assert sandbox.get(ACT).status_code == 200


def test_token_without_access_to_account_is_100_33(sandbox: Sandbox) -> None:
    response = sandbox.get(f"act_{OTHER_ACCOUNT_ID}")
    error = error_of(response)
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert error["type"] == "GraphMethodException"
    assert f"Object with ID 'act_{OTHER_ACCOUNT_ID}' does not exist" in error["message"]
    # The owner sees it; and the other token can't see the demo account's objects either.
    assert sandbox.get(f"act_{OTHER_ACCOUNT_ID}", token=OTHER_TOKEN).status_code == 200
    campaign_id = sandbox.campaign()
    assert error_of(sandbox.get(campaign_id, token=OTHER_TOKEN))["error_subcode"] == 33


def test_appsecret_proof_checked_when_the_sandbox_has_a_secret(sandbox: Sandbox) -> None:
    sandbox.configure(app_secret="s3cret")
    proof = hmac.new(b"s3cret", DEMO_TOKEN.encode(), hashlib.sha256).hexdigest()
    assert sandbox.get(ACT, appsecret_proof=proof).status_code == 200
    assert error_of(sandbox.get(ACT))["message"] == (
        "API calls from the server require an appsecret_proof argument"
    )
    bad = error_of(sandbox.get(ACT, appsecret_proof="0" * 64))
    assert (bad["code"], bad["type"]) == (100, "GraphMethodException")
    assert bad["message"] == "Invalid appsecret_proof provided in the API argument"


def test_authorization_header_and_json_body_are_accepted(sandbox: Sandbox) -> None:
    response = requests.post(
        sandbox.url(f"{ACT}/campaigns"),
        json={
            "name": "JSON",
            "objective": "OUTCOME_SALES",
            "special_ad_categories": [],
            "is_adset_budget_sharing_enabled": False,
        },
        headers={"Authorization": f"OAuth {DEMO_TOKEN}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert sandbox.objects("campaign")[0]["fields"]["objective"] == "OUTCOME_SALES"


# --- reads, updates, deletes, lists ---------------------------------------------------------------


def test_object_read_update_delete(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign(name="Before")
    assert sandbox.post(campaign_id, name="After", status="ACTIVE").json() == {"success": True}
    read = sandbox.get(
        campaign_id,
        fields="name,status,effective_status,objective,special_ad_categories,created_time",
    ).json()
    assert read["name"] == "After"
    assert read["effective_status"] == "ACTIVE"
    assert read["special_ad_categories"] == []
    assert read["created_time"].endswith("+0000")

    adset_id = sandbox.adset(campaign_id)
    assert sandbox.delete(campaign_id).json() == {"success": True}
    # Deleted objects still answer by id, with status DELETED; their children go too.
    assert sandbox.get(campaign_id, fields="status").json()["status"] == "DELETED"
    assert sandbox.get(adset_id, fields="effective_status").json()["effective_status"] == (
        "DELETED"
    )
    # ... but edges leave them out.
    assert sandbox.get(f"{ACT}/campaigns").json()["data"] == []
    # A deleted object can only change its name.
    assert error_of(sandbox.post(campaign_id, status="ACTIVE"))["code"] == 100


def test_unknown_ids_fields_and_paths(sandbox: Sandbox) -> None:
    error = error_of(sandbox.get("120219999999999999"))
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert error["message"].startswith("Unsupported get request.")
    assert error_of(sandbox.post("120219999999999999", name="x"))["message"].startswith(
        "Unsupported post request."
    )
    campaign_id = sandbox.campaign()
    error = error_of(sandbox.get(campaign_id, fields="name,colour"))
    assert error["message"] == (
        "(#100) Tried accessing nonexisting field (colour) on node type (AdCampaignGroup)"
    )
    assert error_of(sandbox.get(f"{campaign_id}/adsets/extra"))["code"] == 2500


def test_edges_with_field_expansion_and_parent_edges(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign(name="Parent")
    adset_id = sandbox.adset(campaign_id, name="Child")
    body = sandbox.get(f"{campaign_id}/adsets", fields="name,campaign{name}").json()
    assert body["data"] == [
        {"name": "Child", "campaign": {"name": "Parent", "id": campaign_id}, "id": adset_id}
    ]
    nested = sandbox.get(campaign_id, fields="name,adsets{name}").json()
    assert nested["adsets"]["data"] == [{"name": "Child", "id": adset_id}]


def test_filtering_operators_on_name_id_status_and_labels(sandbox: Sandbox) -> None:
    first = sandbox.campaign(name="mojito job 1 campaign", adlabels=[{"name": "job-1"}])
    second = sandbox.campaign(name="mojito job 2 campaign", status="ACTIVE")

    def names(*filters: dict) -> list[str]:
        body = sandbox.get(f"{ACT}/campaigns", fields="name", filtering=list(filters)).json()
        return sorted(item["id"] for item in body["data"])

    assert names({"field": "name", "operator": "EQUAL", "value": "mojito job 1 campaign"}) == [
        first
    ]
    assert names({"field": "name", "operator": "CONTAIN", "value": "job"}) == sorted(
        [first, second]
    )
    assert names({"field": "id", "operator": "IN", "value": [second]}) == [second]
    assert names({"field": "effective_status", "operator": "IN", "value": ["ACTIVE"]}) == [second]
    assert names({"field": "adlabels", "operator": "ANY", "value": ["job-1"]}) == [first]
    assert names({"field": "adlabels", "operator": "CONTAIN", "value": "job-1"}) == [first]
    bad = error_of(
        sandbox.get(
            f"{ACT}/campaigns", filtering=[{"field": "name", "operator": "LIKE", "value": "x"}]
        )
    )
    assert bad["code"] == 100


def test_cursor_paging(sandbox: Sandbox) -> None:
    ids = [sandbox.campaign(name=f"c{i}") for i in range(5)]
    first = sandbox.get(f"{ACT}/campaigns", limit=2, summary="true").json()
    assert len(first["data"]) == 2
    assert first["summary"] == {"total_count": 5}
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    seen = [item["id"] for item in first["data"]]
    next_url = first["paging"]["next"]
    while next_url:
        page = requests.get(next_url, timeout=5).json()
        seen += [item["id"] for item in page["data"]]
        next_url = page["paging"].get("next")
    assert sorted(seen) == sorted(ids)
    last = sandbox.get(f"{ACT}/campaigns", limit=10).json()
    assert "next" not in last["paging"]


# --- usage headers and throttling -----------------------------------------------------------------


def test_usage_headers_on_every_account_call(sandbox: Sandbox) -> None:
    response = sandbox.get(ACT)
    buc = json.loads(response.headers["x-business-use-case-usage"])
    entry = buc[DEMO_ACCOUNT_ID][0]
    assert entry["type"] == "ads_management"
    assert set(entry) >= {
        "call_count",
        "total_cputime",
        "total_time",
        "estimated_time_to_regain_access",
    }
    assert json.loads(response.headers["x-ad-account-usage"])["acc_id_util_pct"] >= 0
    assert "call_count" in json.loads(response.headers["x-app-usage"])


def test_throttling_past_the_score(sandbox: Sandbox) -> None:
    sandbox.configure(throttle_score=10, throttle_block_seconds=120, throttle_window_seconds=10**9)
    for _ in range(3):
        assert (
            sandbox.post(
                f"{ACT}/campaigns",
                name="x",
                objective="OUTCOME_TRAFFIC",
                special_ad_categories=[],
                is_adset_budget_sharing_enabled=False,
            ).status_code
            == 200
        )  # 3 each
    usage = json.loads(sandbox.get(ACT).headers["x-business-use-case-usage"])  # score 10
    assert usage[DEMO_ACCOUNT_ID][0]["call_count"] == 100
    response = sandbox.get(ACT)  # 11 > 10
    error = error_of(response)
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (80004, 2446079, True)
    usage = json.loads(response.headers["x-business-use-case-usage"])[DEMO_ACCOUNT_ID][0]
    assert usage["estimated_time_to_regain_access"] == 2
    # Blocked: even reads fail until the block ends; other accounts are not affected.
    assert error_of(sandbox.get(ACT))["code"] == 80004
    assert sandbox.get(f"act_{OTHER_ACCOUNT_ID}", token=OTHER_TOKEN).status_code == 200


def test_throttled_account_recovers_as_the_score_decays(sandbox: Sandbox) -> None:
    # A full score drains in throttle_window_seconds; the block lasts throttle_block_seconds.
    sandbox.configure(throttle_score=4, throttle_window_seconds=0.4, throttle_block_seconds=0.2)
    answers = sandbox.post("", batch=[{"method": "GET", "relative_url": ACT}] * 8).json()
    assert answers[-1]["code"] == 400  # one request, eight calls: no time to decay
    # The control API reads the usage without spending any (a Graph read would add to it).
    deadline = time.monotonic() + 5
    while True:
        usage = sandbox.control("GET", "usage")[f"act_{DEMO_ACCOUNT_ID}"]
        if usage["estimated_time_to_regain_access"] == 0 and usage["score"] < 4:
            break  # no longer blocked, room for one more call
        assert time.monotonic() < deadline, f"usage still {usage} after 5 s"
        time.sleep(0.02)
    assert sandbox.get(ACT).status_code == 200


def test_batch_operations_count_one_by_one(sandbox: Sandbox) -> None:
    sandbox.configure(throttle_score=5, throttle_window_seconds=10**9)
    batch = [{"method": "GET", "relative_url": ACT} for _ in range(7)]
    answers = sandbox.post("", batch=batch).json()
    codes = [json.loads(a["body"]).get("error", {}).get("code") for a in answers]
    assert codes[:5] == [None] * 5
    assert codes[5:] == [80004, 80004]


# --- faults and latency ---------------------------------------------------------------------------


def test_scheduled_transient_fault(sandbox: Sandbox) -> None:
    sandbox.control("POST", "faults", fault="transient", path_contains="/campaigns", count=1)
    response = sandbox.post(
        f"{ACT}/campaigns",
        name="t",
        objective="OUTCOME_TRAFFIC",
        special_ad_categories=[],
        is_adset_budget_sharing_enabled=False,
    )
    error = error_of(response)
    assert (response.status_code, error["code"], error["is_transient"]) == (500, 2, True)
    assert sandbox.objects("campaign") == []
    sandbox.campaign(name="t")  # the fault fired once
    assert sandbox.state.request_log()[-2]["fault"] == "transient"


def test_scheduled_permanent_and_throttle_and_expired_faults(sandbox: Sandbox) -> None:
    for kind, code in (("permanent", 100), ("throttle", 80004), ("expired_token", 190)):
        sandbox.control("POST", "faults", fault=kind, path_contains=ACT)
        assert error_of(sandbox.get(ACT))["code"] == code, kind
        if kind == "throttle":
            sandbox.control("POST", "reset")
    assert sandbox.get(ACT).status_code == 200  # the token itself did not expire


def test_drop_after_create_leaves_exactly_one_object(sandbox: Sandbox) -> None:
    sandbox.control("POST", "faults", fault="drop_after_create", path_contains="/campaigns")
    with pytest.raises(requests.ConnectionError):
        sandbox.post(
            f"{ACT}/campaigns",
            name="job-7 campaign",
            objective="OUTCOME_TRAFFIC",
            special_ad_categories=[],
            is_adset_budget_sharing_enabled=False,
        )
    assert len(sandbox.objects("campaign")) == 1
    found = sandbox.get(
        f"{ACT}/campaigns",
        fields="name",
        filtering=[{"field": "name", "operator": "EQUAL", "value": "job-7 campaign"}],
    ).json()["data"]
    assert [item["name"] for item in found] == ["job-7 campaign"]
    entry = sandbox.control("GET", "requests")["data"][-2]
    assert entry["dropped"] is True and entry["created_ids"] == [found[0]["id"]]


@pytest.mark.parametrize(
    ("marker", "code"),
    [("transient", 2), ("expired", 190), ("throttle", 80004), ("permanent", 100)],
)
def test_name_markers_fire_once_per_name(sandbox: Sandbox, marker: str, code: int) -> None:
    name = f"Campaign [sandbox:{marker}]"
    params = {
        "name": name,
        "objective": "OUTCOME_TRAFFIC",
        "special_ad_categories": [],
        "is_adset_budget_sharing_enabled": False,
    }
    assert error_of(sandbox.post(f"{ACT}/campaigns", **params))["code"] == code
    if marker == "throttle":
        sandbox.control("POST", "reset")
    else:
        # The retry of the same name succeeds.
        assert sandbox.post(f"{ACT}/campaigns", **params).status_code == 200


def test_drop_marker(sandbox: Sandbox) -> None:
    name = "Ad set campaign [sandbox:drop]"
    with pytest.raises(requests.ConnectionError):
        sandbox.campaign(name=name)
    assert [c["fields"]["name"] for c in sandbox.objects("campaign")] == [name]
    sandbox.campaign(name=name)  # a blind retry creates a second one: look up before retrying
    assert len(sandbox.objects("campaign")) == 2


def test_fault_rate_and_latency(sandbox: Sandbox) -> None:
    sandbox.configure(fault_rate=1.0)
    assert error_of(sandbox.get(ACT))["code"] == 2
    sandbox.configure(fault_rate=0.0, latency_ms=150)
    started = time.monotonic()
    assert sandbox.get(ACT).status_code == 200
    assert time.monotonic() - started >= 0.14


# --- request log and control API ------------------------------------------------------------------


def test_request_log_redacts_secrets(sandbox: Sandbox) -> None:
    sandbox.configure(app_secret="s3cret")
    proof = hmac.new(b"s3cret", DEMO_TOKEN.encode(), hashlib.sha256).hexdigest()
    sandbox.post(
        f"{ACT}/adimages", appsecret_proof=proof, bytes=base64.b64encode(png_bytes()).decode()
    )
    text = json.dumps(sandbox.control("GET", "requests"))
    assert DEMO_TOKEN not in text and proof not in text
    entry = sandbox.control("GET", "requests")["data"][-1]
    assert entry["params"]["access_token"] == "REDACTED"
    assert entry["params"]["appsecret_proof"] == "REDACTED"
    assert entry["params"]["bytes"].endswith("base64 chars>")
    assert entry["status"] == 200 and len(entry["created_ids"]) == 1


def test_control_register_account_and_objects(sandbox: Sandbox) -> None:
    sandbox.configure(throttle_window_seconds=10**9)  # no decay while we count
    result = sandbox.control(
        "POST",
        "accounts",
        token="new-token",
        account_id="act_300",
        name="Three Hundred",
        currency="EUR",
        page_ids=["777"],
    )
    assert result["accounts"] == [{"id": "act_300", "name": "Three Hundred", "currency": "EUR"}]
    body = sandbox.get("act_300", token="new-token", fields="name,currency").json()
    assert body == {"name": "Three Hundred", "currency": "EUR", "id": "act_300"}
    me = sandbox.get("me/adaccounts", token="new-token", fields="name").json()
    assert me["data"] == [{"name": "Three Hundred", "id": "act_300"}]
    campaign_id = sandbox.campaign()
    sandbox.image_hash()
    listed = sandbox.control("GET", "objects?type=campaign")["data"]
    assert [(o["id"], o["type"], o["account_id"]) for o in listed] == [
        (campaign_id, "campaign", DEMO_ACCOUNT_ID)
    ]
    assert {o["type"] for o in sandbox.control("GET", "objects")["data"]} == {"campaign", "adimage"}
    usage = sandbox.control("GET", "usage")
    assert (usage[ACT]["score"], usage["act_300"]["score"]) == (6, 1)  # 2 writes, 1 read
    logged = sandbox.control("GET", "requests?path_contains=/campaigns")["data"]
    assert [entry["method"] for entry in logged] == ["POST"]
    assert sandbox.control("GET", "health") == {"ok": True}
    sandbox.control("POST", "reset")
    assert sandbox.objects("campaign") == []
    assert sandbox.control("GET", "requests")["data"] == []


# --- media ----------------------------------------------------------------------------------------


def test_control_posts_and_instagram_media(sandbox: Sandbox) -> None:
    post = sandbox.control("POST", "posts", page_id=DEMO_PAGE_ID, message="Hello")
    page_id, _, number = post["id"].partition("_")
    assert page_id == DEMO_PAGE_ID and number.isdigit()
    [listed] = sandbox.control("GET", "posts")["data"]
    assert (listed["id"], listed["page_id"], listed["message"], listed["is_published"]) == (
        post["id"],
        DEMO_PAGE_ID,
        "Hello",
        True,
    )
    media = sandbox.control("POST", "instagram_media", instagram_user_id="17841400000000001")
    assert media["id"].isdigit()
    [ig] = sandbox.control("GET", "instagram_media")["data"]
    assert (ig["id"], ig["instagram_user_id"], ig["caption"]) == (
        media["id"],
        "17841400000000001",
        None,
    )
    for path, body in (("posts", {"page_id": "my-page"}), ("instagram_media", {})):
        response = requests.post(f"{sandbox.base_url}/__sandbox__/{path}", json=body, timeout=5)
        assert response.status_code == 400
    sandbox.control("POST", "reset")
    assert sandbox.control("GET", "posts")["data"] == []
    assert sandbox.control("GET", "instagram_media")["data"] == []


def test_adimages_multipart_and_bytes(sandbox: Sandbox) -> None:
    data = png_bytes(3, 4)
    response = sandbox.post(f"{ACT}/adimages", files={"anything": ("pic.png", data, "image/png")})
    image = response.json()["images"]["pic.png"]
    assert image["hash"] == hashlib.md5(data).hexdigest()  # noqa: S324
    assert (image["width"], image["height"], image["name"]) == (3, 4, "pic.png")
    assert requests.get(image["url"], timeout=5).content == data
    again = sandbox.post(f"{ACT}/adimages", bytes=base64.b64encode(data).decode()).json()
    assert again["images"]["bytes"]["hash"] == image["hash"]
    assert len(sandbox.objects("adimage")) == 1
    listed = sandbox.get(f"{ACT}/adimages", hashes=[image["hash"]]).json()["data"]
    assert listed == [{"hash": image["hash"], "id": f"{DEMO_ACCOUNT_ID}:{image['hash']}"}]


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 20,
        b"\xff\xd8\xff\xe0" + b"\x00" * 20,
        b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 20,
        b"BM" + b"\x00" * 40,
    ],
)
def test_adimages_accepts_other_image_formats(sandbox: Sandbox, data: bytes) -> None:
    response = sandbox.post(f"{ACT}/adimages", bytes=base64.b64encode(data).decode())
    assert response.status_code == 200, response.text


def test_adimages_rejects_non_images(sandbox: Sandbox) -> None:
    response = sandbox.post(f"{ACT}/adimages", files={"f": ("notes.txt", b"hello", "text/plain")})
    error = error_of(response)
    assert error["code"] == 100
    assert error["error_user_title"] == "Image Resize Failed"
    assert error_of(sandbox.post(f"{ACT}/adimages"))["code"] == 100


def test_advideos_file_url_is_recorded_not_fetched(sandbox: Sandbox) -> None:
    sandbox.configure(video_ready_after=60)
    response = sandbox.post(
        f"{ACT}/advideos", file_url="https://cdn.example.com/clip.mp4", name="Clip"
    )
    video_id = response.json()["id"]
    stored = sandbox.state.get_object(video_id)
    assert stored is not None and stored.extra["file_url"] == "https://cdn.example.com/clip.mp4"
    status = sandbox.get(video_id, fields="status").json()["status"]
    assert status["video_status"] == "processing"
    sandbox.configure(video_ready_after=0)
    status = sandbox.get(video_id, fields="status").json()["status"]
    assert status["video_status"] == "ready"
    assert status["processing_phase"]["status"] == "complete"
    both = sandbox.post(
        f"{ACT}/advideos", file_url="https://x/y.mp4", upload_phase="start", file_size=10
    )
    assert error_of(both)["code"] == 100


def test_advideos_source_must_be_a_video(sandbox: Sandbox) -> None:
    bad = sandbox.post(f"{ACT}/advideos", files={"source": ("x.mp4", b"not a video", "video/mp4")})
    assert error_of(bad)["code"] == 352
    good = sandbox.post(f"{ACT}/advideos", files={"source": ("x.mp4", mp4_bytes(), "video/mp4")})
    assert good.status_code == 200 and "id" in good.json()


def test_advideos_chunked_upload(sandbox: Sandbox) -> None:
    sandbox.configure(video_chunk_size=1000, video_ready_after=60)
    data = mp4_bytes(2500)
    start = sandbox.post(f"{ACT}/advideos", upload_phase="start", file_size=len(data)).json()
    assert (start["start_offset"], start["end_offset"]) == ("0", "1000")
    session = start["upload_session_id"]
    offsets = (int(start["start_offset"]), int(start["end_offset"]))
    wrong = sandbox.post(
        f"{ACT}/advideos",
        upload_phase="transfer",
        upload_session_id=session,
        start_offset=500,
        files={"video_file_chunk": ("c", data[500:1000])},
    )
    wrong_error = error_of(wrong)
    assert wrong_error["error_subcode"] == 1363037
    assert wrong_error["error_data"] == {"start_offset": 0, "end_offset": 1000}
    while offsets[0] != offsets[1]:
        chunk = data[offsets[0] : offsets[1]]
        answer = sandbox.post(
            f"{ACT}/advideos",
            upload_phase="transfer",
            upload_session_id=session,
            start_offset=offsets[0],
            files={"video_file_chunk": ("chunk", chunk)},
        ).json()
        offsets = (int(answer["start_offset"]), int(answer["end_offset"]))
    assert offsets == (2500, 2500)
    video_id = start["video_id"]
    assert (
        sandbox.get(video_id, fields="status").json()["status"]["uploading_phase"]["status"]
        == "in_progress"
    )
    finish = sandbox.post(
        f"{ACT}/advideos", upload_phase="finish", upload_session_id=session, title="clip.mp4"
    )
    assert finish.json() == {"success": True}
    assert sandbox.get(video_id, fields="status,title").json()["status"]["video_status"] == (
        "processing"
    )
    sandbox.configure(video_ready_after=0)
    assert sandbox.get(video_id, fields="status").json()["status"]["video_status"] == "ready"


def test_video_error_marker(sandbox: Sandbox) -> None:
    video_id = sandbox.post(
        f"{ACT}/advideos", file_url="https://x/clip.mp4", title="broken [sandbox:video_error]"
    ).json()["id"]
    status = sandbox.get(video_id, fields="status").json()["status"]
    assert status["video_status"] == "error"


# --- batch ----------------------------------------------------------------------------------------


def campaign_body(name: str = "Batch campaign") -> str:
    return (
        f"name={name}&objective=OUTCOME_TRAFFIC&status=PAUSED&special_ad_categories=[]"
        "&is_adset_budget_sharing_enabled=false"
    )


def adset_body(campaign_ref: str, name: str = "Batch set") -> str:
    targeting = json.dumps({"geo_locations": {"countries": ["US"]}})
    return (
        f"name={name}&campaign_id={campaign_ref}&billing_event=IMPRESSIONS"
        f"&optimization_goal=REACH&daily_budget=2000&targeting={targeting}"
    )


def test_batch_references_omission_and_headers(sandbox: Sandbox) -> None:
    image = base64.b64encode(png_bytes()).decode()
    batch = [
        {
            "method": "POST",
            "name": "camp",
            "relative_url": f"{ACT}/campaigns",
            "body": campaign_body(),
        },
        {
            "method": "POST",
            "name": "set",
            "relative_url": f"{VERSION}/{ACT}/adsets",
            "body": adset_body("{result=camp:$.id}"),
            "omit_response_on_success": False,
        },
        {
            "method": "POST",
            "name": "img",
            "relative_url": f"{ACT}/adimages",
            "body": "bytes=" + image.replace("+", "%2B"),
        },
        {
            "method": "POST",
            "name": "creative",
            "relative_url": f"{ACT}/adcreatives",
            "body": "object_story_spec="
            + json.dumps(
                {
                    "page_id": DEMO_PAGE_ID,
                    "link_data": {
                        "link": "https://example.com",
                        "image_hash": "{result=img:$.images.bytes.hash}",
                    },
                }
            ),
        },
        {
            "method": "POST",
            "relative_url": f"{ACT}/ads",
            "body": "name=Ad&adset_id={result=set:$.id}&status=PAUSED"
            '&creative={"creative_id":"{result=creative:$.id}"}',
        },
    ]
    response = sandbox.post("", batch=batch)
    answers = response.json()
    assert response.status_code == 200
    assert answers[0] is None  # referenced by "set": left out on success
    assert answers[1]["code"] == 200 and "id" in json.loads(answers[1]["body"])  # kept
    assert answers[2] is None and answers[3] is None
    assert answers[4]["code"] == 200, answers[4]
    header_names = {h["name"] for h in answers[4]["headers"]}
    assert {"Content-Type", "x-business-use-case-usage"} <= header_names
    assert len(sandbox.objects("ad")) == 1
    ad = sandbox.objects("ad")[0]
    assert ad["fields"]["adset_id"] == json.loads(answers[1]["body"])["id"]
    no_headers = sandbox.post(
        "", batch=[{"method": "GET", "relative_url": ACT}], include_headers=False
    ).json()
    assert "headers" not in no_headers[0]


def test_batch_url_encoded_references_from_the_sdk_style(sandbox: Sandbox) -> None:
    batch = [
        {
            "method": "POST",
            "name": "camp",
            "relative_url": f"{ACT}/campaigns",
            "body": campaign_body(),
        },
        {
            "method": "GET",
            "relative_url": f"{ACT}/campaigns?fields=name&filtering="
            + quote(
                json.dumps([{"field": "id", "operator": "EQUAL", "value": "{result=camp:$.id}"}])
            ),
        },
    ]
    answers = sandbox.post("", batch=batch).json()
    found = json.loads(answers[1]["body"])["data"]
    assert [item["name"] for item in found] == ["Batch campaign"]


def test_batch_failed_dependency_is_not_run(sandbox: Sandbox) -> None:
    batch = [
        {
            "method": "POST",
            "name": "camp",
            "relative_url": f"{ACT}/campaigns",
            "body": "name=Bad&objective=LINK_CLICKS&special_ad_categories=[]",
        },
        {
            "method": "POST",
            "relative_url": f"{ACT}/adsets",
            "body": adset_body("{result=camp:$.id}"),
        },
        {"method": "GET", "relative_url": ACT, "depends_on": "camp"},
        {"method": "GET", "relative_url": ACT},
    ]
    answers = sandbox.post("", batch=batch).json()
    assert json.loads(answers[0]["body"])["error"]["code"] == 100  # failures are not omitted
    assert answers[1] is None and answers[2] is None  # dependants of a failure do not run
    assert answers[3]["code"] == 200  # independent operations still do
    assert sandbox.objects("adset") == []


def test_batch_limit_is_50_operations(sandbox: Sandbox) -> None:
    ok = sandbox.post("", batch=[{"method": "GET", "relative_url": ACT}] * 50)
    assert ok.status_code == 200 and len(ok.json()) == 50
    too_many = sandbox.post("", batch=[{"method": "GET", "relative_url": ACT}] * 51)
    error = error_of(too_many)
    assert error["message"] == "Too many requests in batch message. Maximum batch size is 50"
    assert error["type"] == "GraphBatchException"


def test_batch_cannot_hold_two_adsets_of_one_campaign(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    other_id = sandbox.campaign(name="Other")
    batch = [
        {"method": "POST", "relative_url": f"{ACT}/adsets", "body": adset_body(campaign_id, "A")},
        {"method": "POST", "relative_url": f"{ACT}/adsets", "body": adset_body(campaign_id, "B")},
        {"method": "POST", "relative_url": f"{ACT}/adsets", "body": adset_body(other_id, "C")},
    ]
    answers = sandbox.post("", batch=batch).json()
    assert answers[0]["code"] == 200
    error = json.loads(answers[1]["body"])["error"]
    assert error["code"] == 100
    assert "multiple Adsets under the same Campaign" in error["error_user_msg"]
    assert answers[2]["code"] == 200
    assert sorted(a["fields"]["name"] for a in sandbox.objects("adset")) == ["A", "C"]


def test_batch_faults_apply_per_operation(sandbox: Sandbox) -> None:
    sandbox.control("POST", "faults", fault="transient", path_contains="/adsets")
    campaign_id = sandbox.campaign()
    batch = [
        {"method": "POST", "relative_url": f"{ACT}/adsets", "body": adset_body(campaign_id)},
        {"method": "GET", "relative_url": campaign_id},
    ]
    answers = sandbox.post("", batch=batch).json()
    assert answers[0]["code"] == 500
    assert json.loads(answers[0]["body"])["error"]["is_transient"] is True
    assert answers[1]["code"] == 200


def test_batch_cannot_change_two_adsets_of_one_campaign_either(sandbox: Sandbox) -> None:
    campaign_id = sandbox.campaign()
    ids = []
    for name in ("A", "B"):  # one batch each: the rule holds for creates too
        op = {
            "method": "POST",
            "relative_url": f"{ACT}/adsets",
            "body": adset_body(campaign_id, name),
        }
        (answer,) = sandbox.post("", batch=[op]).json()
        ids.append(json.loads(answer["body"])["id"])

    batch = [{"method": "POST", "relative_url": i, "body": "name=Renamed"} for i in ids]
    answers = sandbox.post("", batch=batch).json()

    assert answers[0]["code"] == 200
    error = json.loads(answers[1]["body"])["error"]
    assert error["code"] == 100
    assert "multiple Adsets under the same Campaign" in error["error_user_msg"]
    assert sorted(a["fields"]["name"] for a in sandbox.objects("adset")) == ["B", "Renamed"]
