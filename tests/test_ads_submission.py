"""`POST /api/v1/ads/meta` as a client sees it: the 202 job, the stored plan, the broker message,
idempotency, and the 400 / 404 / 413 answers (API.md, "Ad creation").

Rule-by-rule validation lives in test_meta_validation.py; here each kind of bad input is checked
once for the HTTP contract: status, error shape, and that nothing was stored or sent.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from adaccounts.models import AdAccountStatus
from campaigns import services, sweeps
from campaigns.models import (
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    Creative,
    JobStatus,
    MediaAsset,
    MediaKind,
)
from mojito.db import Rows, insert_rows
from platforms.base import PlatformType
from platforms.meta.models import (
    MetaAdDetails,
    MetaAdSetDetails,
    MetaCampaignDetails,
    MetaCreativeDetails,
)
from tests.broker import BrokerQueue, broker_down
from tests.factories import AdAccountFactory, UserFactory
from tests.payloads import (
    CAMPAIGN_NAME,
    IMAGE_URL,
    META_SUBMIT_URL,
    ad,
    ad_set,
    ad_with_existing_creative,
    api_example,
    tree,
)

pytestmark = pytest.mark.django_db

URL = META_SUBMIT_URL
ACCOUNT_TOKEN = "EAAB-submission-canary-token"
UNKNOWN_ACCOUNT_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def account(caller):
    return AdAccountFactory(team=caller.team, credentials={"access_token": ACCOUNT_TOKEN})


@pytest.fixture
def post(caller, django_capture_on_commit_callbacks) -> Callable[..., Any]:
    """POST as `caller` and run what the request left for after commit, as a real commit would.

    `raw` sends a body as it is (for bodies that are not JSON of a dict).
    """

    def send(
        body: Any = None,
        *,
        raw: str | None = None,
        client: APIClient | None = None,
        path: str = URL,
        key: str | None = None,
        content_type: str = "application/json",
    ) -> Any:
        client = client or caller.client
        headers = {"Idempotency-Key": key} if key is not None else {}
        with django_capture_on_commit_callbacks(execute=True):
            if raw is not None:
                return client.post(path, data=raw, content_type=content_type, headers=headers)
            return client.post(path, body, format="json", headers=headers)

    return send


def error_attrs(response: Any) -> list[str | None]:
    return [error["attr"] for error in response.json()["errors"]]


def assert_validation_error(response: Any, *attrs: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    for error in body["errors"]:
        assert set(error) == {"attr", "code", "detail"}
        assert error["code"] and error["detail"]
    for attr in attrs:
        assert attr in error_attrs(response), response.content


def assert_nothing_stored_or_sent(broker_queue: BrokerQueue) -> None:
    assert not CampaignJob.objects.exists()
    assert not Campaign.objects.exists()
    assert not AdSet.objects.exists()
    assert not Creative.objects.exists()
    assert not MediaAsset.objects.exists()
    assert broker_queue.job_ids() == []


def decoded_messages(broker_queue: BrokerQueue) -> list[tuple[list, dict]]:
    """(args, kwargs) of every message in the queue."""
    out = []
    for message in broker_queue.messages():
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        out.append((args, kwargs))
    return out


# --- Accepted ---------------------------------------------------------------------------------


def test_a_submission_answers_202_with_the_pending_job_and_its_location(caller, account, post):
    response = post(api_example(str(account.pk)))

    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}"
    uuid.UUID(job["id"])
    assert job["status"] == "PENDING"
    assert job["platform_type"] == "META"
    assert job["ad_account_id"] == str(account.pk)
    assert job["attempts"] == 0
    assert job["created_at"] and job["updated_at"]
    assert job["started_at"] is None
    assert job["finished_at"] is None
    assert job["platform_campaign_id"] is None
    assert job["error"] is None
    campaign = job["campaign"]
    assert (campaign["name"], campaign["platform_id"]) == (CAMPAIGN_NAME, None)
    [only_set] = campaign["ad_sets"]
    assert (only_set["name"], only_set["platform_id"]) == ("US 18-35", None)
    [only_ad] = only_set["ads"]
    assert (only_ad["name"], only_ad["platform_id"]) == ("Ad 1", None)
    assert only_ad["creative"]["platform_id"] is None

    read_back = caller.client.get(response["Location"])
    assert read_back.status_code == 200
    assert read_back.json()["id"] == job["id"]


def test_the_202_answer_is_the_job_exactly_as_reading_it_back_shows(caller, account, post):
    response = post(tree(account.platform_account_id, ad_sets=3, ads=2))

    assert response.status_code == 202
    assert caller.client.get(response["Location"]).json() == response.json()


def test_the_job_body_lists_the_tree_in_request_order(account, post):
    response = post(tree(account.platform_account_id, ad_sets=3, ads=2))

    assert response.status_code == 202
    ad_sets = response.json()["campaign"]["ad_sets"]
    assert [s["name"] for s in ad_sets] == ["Ad set 0", "Ad set 1", "Ad set 2"]
    assert [[a["name"] for a in s["ads"]] for s in ad_sets] == [
        ["Ad 0.0", "Ad 0.1"],
        ["Ad 1.0", "Ad 1.1"],
        ["Ad 2.0", "Ad 2.1"],
    ]
    for ad_set_body in ad_sets:
        assert ad_set_body["platform_id"] is None
        for ad_body in ad_set_body["ads"]:
            assert ad_body["platform_id"] is None
            assert ad_body["creative"]["platform_id"] is None


@pytest.mark.parametrize("form", ["our uuid", "act_ id", "bare digits"])
def test_the_ad_account_can_be_named_by_our_uuid_or_by_its_meta_id(account, post, form):
    digits = account.platform_account_id.removeprefix("act_")
    named = {
        "our uuid": str(account.pk),
        "act_ id": account.platform_account_id,
        "bare digits": digits,
    }[form]

    response = post(api_example(named))

    assert response.status_code == 202, response.content
    assert response.json()["ad_account_id"] == str(account.pk)
    assert CampaignJob.objects.get().ad_account == account


def test_the_plan_rows_hold_the_request_values_and_no_platform_ids(caller, account, post):
    body = api_example(account.platform_account_id)

    response = post(body)

    assert response.status_code == 202
    job = CampaignJob.objects.get(pk=response.json()["id"])
    assert job.payload == body
    assert (job.team, job.ad_account, job.created_by) == (account.team, account, caller.user)
    assert (job.status, job.attempts, job.platform_campaign_id) == ("PENDING", 0, None)

    campaign = Campaign.objects.get(job=job)
    assert (campaign.name, campaign.status, campaign.platform_id) == ("Spring sale", "PAUSED", None)
    assert campaign.ad_account == account
    campaign_meta = MetaCampaignDetails.objects.get(campaign=campaign)
    assert campaign_meta.objective == "OUTCOME_TRAFFIC"
    assert campaign_meta.special_ad_categories == []
    assert campaign_meta.buying_type == "AUCTION"
    assert campaign_meta.is_adset_budget_sharing_enabled is False
    assert (campaign_meta.daily_budget, campaign_meta.lifetime_budget) == (None, None)
    assert campaign_meta.extra_params == {}

    ad_set_row = AdSet.objects.get(campaign=campaign)
    assert (ad_set_row.name, ad_set_row.position, ad_set_row.status) == ("US 18-35", 0, "PAUSED")
    assert ad_set_row.platform_id is None
    ad_set_meta = MetaAdSetDetails.objects.get(ad_set=ad_set_row)
    assert ad_set_meta.daily_budget == 2000
    assert ad_set_meta.lifetime_budget is None
    assert ad_set_meta.billing_event == "IMPRESSIONS"
    assert ad_set_meta.optimization_goal == "LINK_CLICKS"
    assert ad_set_meta.destination_type == "WEBSITE"
    assert ad_set_meta.start_time == datetime(2030, 1, 1, tzinfo=UTC)
    assert ad_set_meta.end_time is None
    assert ad_set_meta.targeting == {
        "geo_locations": {"countries": ["US"]},
        "age_min": 18,
        "age_max": 35,
        # Ages 18-35 narrow the audience: Advantage+ audience off unless asked for.
        "targeting_automation": {"advantage_audience": 0},
    }

    ad_row = Ad.objects.get(ad_set=ad_set_row)
    assert (ad_row.name, ad_row.position, ad_row.status, ad_row.platform_id) == (
        "Ad 1",
        0,
        "PAUSED",
        None,
    )
    assert MetaAdDetails.objects.filter(ad=ad_row).exists()

    creative = ad_row.creative
    assert (creative.name, creative.is_existing, creative.job) == ("Creative 1", False, job)
    assert creative.platform_id is None
    creative_meta = MetaCreativeDetails.objects.get(creative=creative)
    assert creative_meta.page_id == "1234567890"
    assert creative_meta.link == "https://example.com/sale"
    assert creative_meta.message == "Primary text"
    assert creative_meta.headline == "Headline"
    assert creative_meta.description == "Description"
    assert creative_meta.call_to_action["type"] == "SHOP_NOW"

    media = MediaAsset.objects.get(job=job)
    assert (media.kind, media.source_url, media.platform_id) == (MediaKind.IMAGE, IMAGE_URL, None)
    assert creative_meta.image_asset == media
    assert creative_meta.video_asset is None


def test_everything_is_planned_paused_when_the_request_names_no_status(account, post):
    body = api_example(account.platform_account_id)
    del body["campaign"]["status"]
    del body["ad_sets"][0]["status"]
    del body["ad_sets"][0]["ads"][0]["status"]

    assert post(body).status_code == 202

    assert Campaign.objects.get().status == "PAUSED"
    assert AdSet.objects.get().status == "PAUSED"
    assert Ad.objects.get().status == "PAUSED"


def test_an_image_used_by_several_creatives_is_one_media_asset(account, post):
    body = tree(account.platform_account_id, ad_sets=2, ads=3)
    body["ad_sets"][1]["ads"][2] = ad("Ad other", image_url="https://cdn.example.com/b.jpg")

    assert post(body).status_code == 202

    assets = {asset.source_url: asset for asset in MediaAsset.objects.all()}
    assert sorted(assets) == [IMAGE_URL, "https://cdn.example.com/b.jpg"]
    images = [details.image_asset for details in MetaCreativeDetails.objects.all()]
    assert len(images) == 6
    assert images.count(assets[IMAGE_URL]) == 5
    assert images.count(assets["https://cdn.example.com/b.jpg"]) == 1


def test_a_creative_id_plans_an_existing_creative_with_that_platform_id(account, post):
    body = api_example(account.platform_account_id)
    body["ad_sets"][0]["ads"] = [
        ad_with_existing_creative("Ad existing", "120210000000042"),
        ad("Ad new"),
    ]

    response = post(body)

    assert response.status_code == 202, response.content
    existing_body, new_body = response.json()["campaign"]["ad_sets"][0]["ads"]
    assert existing_body["creative"]["platform_id"] == "120210000000042"
    assert new_body["creative"]["platform_id"] is None
    existing = Ad.objects.get(name="Ad existing").creative
    assert (existing.platform_id, existing.is_existing) == ("120210000000042", True)
    assert not MetaCreativeDetails.objects.filter(creative=existing).exists()
    assert Ad.objects.get(name="Ad new").creative.platform_id is None


def test_the_largest_tree_api_md_allows_is_accepted_whole(account, post):
    response = post(tree(account.platform_account_id, ad_sets=50, ads=50))

    assert response.status_code == 202
    assert len(response.json()["campaign"]["ad_sets"]) == 50
    assert AdSet.objects.count() == 50
    assert Ad.objects.count() == 2500
    assert Creative.objects.count() == 2500
    assert MediaAsset.objects.count() == 1


def plan_rows(job_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every plan row of a job, column by column, with keys named by their place in the tree
    (ids and timestamps differ from job to job)."""
    job = CampaignJob.objects.get(pk=job_id)
    campaign = Campaign.objects.get(job=job)
    names: dict[Any, str] = {job.pk: "job", job.ad_account_id: "account", campaign.pk: "campaign"}
    for ad_set_row in AdSet.objects.filter(campaign=campaign):
        names[ad_set_row.pk] = f"ad set {ad_set_row.position}"
    for ad_row in Ad.objects.filter(ad_set__campaign=campaign):
        names[ad_row.pk] = f"ad {names[ad_row.ad_set_id]}.{ad_row.position}"
        names[ad_row.creative_id] = f"creative of {names[ad_row.pk]}"
    for asset in MediaAsset.objects.filter(job=job):
        names[asset.pk] = f"{asset.kind} {asset.source_url}"
    tables = {
        "campaigns": Campaign.objects.filter(job=job),
        "campaign details": MetaCampaignDetails.objects.filter(campaign__job=job),
        "media": MediaAsset.objects.filter(job=job),
        "ad sets": AdSet.objects.filter(campaign__job=job),
        "ad set details": MetaAdSetDetails.objects.filter(ad_set__campaign__job=job),
        "creatives": Creative.objects.filter(job=job),
        "creative details": MetaCreativeDetails.objects.filter(creative__job=job),
        "ads": Ad.objects.filter(ad_set__campaign__job=job),
        "ad details": MetaAdDetails.objects.filter(ad__ad_set__campaign__job=job),
    }
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, queryset in tables.items():
        rows[table] = sorted(
            (
                {
                    column: names.get(value, value) if isinstance(value, uuid.UUID) else value
                    for column, value in row.items()
                    if column not in {"created_at", "updated_at"}
                }
                for row in queryset.values()
            ),
            key=repr,
        )
    return rows


def test_the_plan_is_stored_alike_in_one_statement_or_table_by_table(account, post, monkeypatch):
    body = tree(account.platform_account_id, ad_sets=2, ads=3, image_url=None)
    body["campaign"]["extra_params"] = {"spend_cap_note": "x"}
    ads = body["ad_sets"][1]["ads"]
    ads[0] = ad_with_existing_creative("Ad existing", "120210000000042")
    ads[1]["creative"].pop("image_url")
    ads[1]["creative"].update(
        video_url="https://cdn.example.com/v.mp4", thumbnail_url="https://cdn.example.com/t.jpg"
    )
    ads[2]["creative"]["image_url"] = body["ad_sets"][0]["ads"][0]["creative"]["image_url"]

    one_statement = post(body)
    # Other databases than PostgreSQL get one bulk_create per table.
    monkeypatch.setattr(connection, "vendor", "other")
    table_by_table = post(body)

    assert one_statement.status_code == table_by_table.status_code == 202
    stored = plan_rows(one_statement.json()["id"])
    assert stored == plan_rows(table_by_table.json()["id"])
    assert {table: len(rows) for table, rows in stored.items()} == {
        "campaigns": 1,
        "campaign details": 1,
        "media": 5,
        "ad sets": 2,
        "ad set details": 2,
        "creatives": 6,
        "creative details": 5,
        "ads": 6,
        "ad details": 6,
    }


# --- The broker message -----------------------------------------------------------------------


def test_exactly_one_message_carrying_only_the_job_id_is_published(
    account, post, broker_queue: BrokerQueue
):
    response = post(api_example(account.platform_account_id))

    job_id = response.json()["id"]
    assert decoded_messages(broker_queue) == [([job_id], {})]
    assert broker_queue.job_ids() == [job_id]
    raw = broker_queue.raw()
    for secret_or_payload in (CAMPAIGN_NAME, "US 18-35", "cdn.example.com", ACCOUNT_TOKEN):
        assert secret_or_payload.encode() not in raw
    assert CampaignJob.objects.get(pk=job_id).published_at is not None


def test_the_job_id_is_published_only_once_the_transaction_commits(
    caller, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = caller.client.post(URL, api_example(account.platform_account_id), format="json")
        assert response.status_code == 202
        # The response is out, but the transaction has not committed yet: nothing is queued.
        assert broker_queue.job_ids() == []

    for callback in after_commit:
        callback()
    assert broker_queue.job_ids() == [response.json()["id"]]


def test_a_plan_that_fails_to_save_leaves_no_row_and_no_message(
    transactional_db, caller, broker_queue: BrokerQueue, monkeypatch
):
    account = AdAccountFactory(team=caller.team)

    def insert_then_fail(tables: Rows, using: str = "default") -> None:
        # Table by table, so that rows are really written before the failure.
        monkeypatch.setattr(connection, "vendor", "other")
        insert_rows(tables, using)
        assert MetaCampaignDetails.objects.exists()
        raise RuntimeError("the database went away mid-plan")

    monkeypatch.setattr(services, "insert_rows", insert_then_fail)

    with pytest.raises(RuntimeError, match="mid-plan"):
        caller.client.post(URL, api_example(account.platform_account_id), format="json")

    assert_nothing_stored_or_sent(broker_queue)
    assert not MetaCampaignDetails.objects.exists()


def test_a_submission_inside_a_transaction_that_rolls_back_leaves_no_row_and_no_message(
    transactional_db, caller, broker_queue: BrokerQueue
):
    account = AdAccountFactory(team=caller.team)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        submission = services.job_submit(
            user=caller.user,
            platform_type=PlatformType.META,
            data=api_example(account.platform_account_id),
        )
        assert submission is not None and submission.created
        raise Abort

    assert_nothing_stored_or_sent(broker_queue)


def test_a_submission_is_accepted_while_the_broker_is_down_and_the_sweeper_publishes_it(
    caller, account, broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        response = caller.client.post(URL, api_example(account.platform_account_id), format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 202, response.content
    assert elapsed < 2, f"the submission took {elapsed:.2f}s with the broker down"
    job = CampaignJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.published_at) == (JobStatus.PENDING, None)
    assert broker_queue.job_ids() == []

    # The broker is back: the beat sweeper's pass publishes the job, once.
    assert sweeps.jobs_publish_unclaimed() == [str(job.pk)]
    assert sweeps.jobs_publish_unclaimed() == []
    assert broker_queue.job_ids() == [str(job.pk)]
    job.refresh_from_db()
    assert job.published_at is not None


# --- validate_only ------------------------------------------------------------------------------


def test_validate_only_answers_valid_and_stores_and_sends_nothing(
    account, post, broker_queue: BrokerQueue
):
    response = post(path=f"{URL}?validate_only=true", body=api_example(str(account.pk)))

    assert response.status_code == 200
    assert response.json() == {"valid": True}
    assert "Location" not in response
    assert_nothing_stored_or_sent(broker_queue)


def test_validate_only_answers_400_for_bad_input(account, post, broker_queue: BrokerQueue):
    body = api_example(account.platform_account_id)
    body["ad_sets"][0]["targeting"] = {"age_min": 18}

    response = post(path=f"{URL}?validate_only=true", body=body)

    assert_validation_error(response, "ad_sets.0.targeting.geo_locations")
    assert_nothing_stored_or_sent(broker_queue)


def test_validate_only_checks_the_ad_account_too(other_caller, post, broker_queue: BrokerQueue):
    theirs = AdAccountFactory(team=other_caller.team)

    response = post(path=f"{URL}?validate_only=true", body=api_example(str(theirs.pk)))

    assert_validation_error(response, "ad_account_id")
    assert_nothing_stored_or_sent(broker_queue)


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_response(account, post, broker_queue: BrokerQueue):
    body = api_example(account.platform_account_id)

    first = post(body, key="order-1")
    again = post(body, key="order-1")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert CampaignJob.objects.count() == 1
    assert Campaign.objects.count() == 1
    assert broker_queue.job_ids() == [first.json()["id"]]


def test_the_same_key_with_reformatted_json_is_still_a_replay(caller, account, post):
    body = api_example(account.platform_account_id)
    first = post(raw=json.dumps(body), key="order-2")
    again = post(raw=json.dumps(body, indent=4, sort_keys=True), key="order-2")

    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert CampaignJob.objects.count() == 1


def test_the_same_key_with_another_body_answers_422(account, post, broker_queue: BrokerQueue):
    body = api_example(account.platform_account_id)
    first = post(body, key="order-3")
    body["campaign"]["name"] = "Summer sale"

    response = post(body, key="order-3")

    assert response.status_code == 422
    assert response.json()["type"] == "client_error"
    assert CampaignJob.objects.count() == 1
    assert Campaign.objects.get().name == CAMPAIGN_NAME
    assert broker_queue.job_ids() == [first.json()["id"]]


def test_the_same_key_from_another_team_makes_an_independent_job(
    account, other_caller, post, broker_queue: BrokerQueue
):
    theirs = AdAccountFactory(team=other_caller.team)
    mine = post(api_example(account.platform_account_id), key="shared-key")

    response = post(
        api_example(theirs.platform_account_id), key="shared-key", client=other_caller.client
    )

    assert response.status_code == 202, response.content
    assert response.json()["id"] != mine.json()["id"]
    assert response.json()["ad_account_id"] == str(theirs.pk)
    assert CampaignJob.objects.filter(idempotency_key="shared-key").count() == 2
    assert sorted(broker_queue.job_ids()) == sorted([mine.json()["id"], response.json()["id"]])


def test_a_key_is_scoped_to_the_team_of_the_account_for_a_user_in_two_teams(caller, account, post):
    """API.md: the key replays only "from the same team"; the database keeps keys per team."""
    second_team_account = AdAccountFactory()
    second_team_account.team.members.add(caller.user)
    first = post(api_example(account.platform_account_id), key="per-team")

    response = post(api_example(second_team_account.platform_account_id), key="per-team")

    assert response.status_code == 202, response.content
    assert response.json()["id"] != first.json()["id"]
    assert response.json()["ad_account_id"] == str(second_team_account.pk)


def test_a_key_follows_the_live_account_when_a_deleted_one_had_the_same_id(caller, account, post):
    """The platform ID moved to another of the caller's teams after the first account was
    deleted: the key is looked up in the live account's team, on every database."""
    first = post(api_example(account.platform_account_id), key="moved")
    account.deleted_at = timezone.now()
    account.save()
    live = AdAccountFactory(platform_account_id=account.platform_account_id)
    live.team.members.add(caller.user)

    response = post(api_example(account.platform_account_id), key="moved")

    assert response.status_code == 202, response.content
    assert response.json()["id"] != first.json()["id"]
    assert response.json()["ad_account_id"] == str(live.pk)


def test_a_key_of_255_characters_is_accepted_and_256_answers_400(
    account, post, broker_queue: BrokerQueue
):
    body = api_example(account.platform_account_id)

    too_long = post(body, key="k" * 256)
    assert_validation_error(too_long, "Idempotency-Key")
    assert_nothing_stored_or_sent(broker_queue)

    longest = post(body, key="k" * 255)
    assert longest.status_code == 202
    assert CampaignJob.objects.get().idempotency_key == "k" * 255


def race(token: str, body: dict[str, Any], key: str, racers: int = 2) -> list[Any]:
    """Send `body` with `key` from `racers` threads released at the same instant."""
    barrier = threading.Barrier(racers)
    responses: list[Any] = []
    errors: list[BaseException] = []

    def submit() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait()
            responses.append(
                client.post(URL, body, format="json", headers={"Idempotency-Key": key})
            )
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return responses


def test_two_concurrent_requests_with_one_key_make_one_job(
    transactional_db, caller, broker_queue: BrokerQueue
):
    account = AdAccountFactory(team=caller.team)
    body = api_example(account.platform_account_id)
    rounds = 3  # several races: each is very likely, not certain, to collide on the insert

    for round_number in range(rounds):
        key = f"concurrent-{round_number}"

        responses = race(caller.token, body, key)

        assert [r.status_code for r in responses] == [202, 202], [r.content for r in responses]
        assert responses[0].json()["id"] == responses[1].json()["id"]
        jobs = CampaignJob.objects.filter(idempotency_key=key)
        assert [str(job.pk) for job in jobs] == [responses[0].json()["id"]]

    assert Campaign.objects.count() == rounds
    assert len(broker_queue.job_ids()) == rounds


# --- Rejected -----------------------------------------------------------------------------------


def _too_many_ad_sets(body: dict[str, Any]) -> None:
    body["ad_sets"] = [ad_set(f"Set {i}", [ad(f"Ad {i}")]) for i in range(51)]


def _too_many_ads(body: dict[str, Any]) -> None:
    body["ad_sets"][0]["ads"] = [ad(f"Ad {i}") for i in range(51)]


def _ftp_image(body: dict[str, Any]) -> None:
    body["ad_sets"][0]["ads"][0]["creative"]["image_url"] = "ftp://cdn.example.com/a.jpg"


def _unknown_field(body: dict[str, Any]) -> None:
    body["colour"] = "red"


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        (_unknown_field, "colour"),
        (_too_many_ad_sets, "ad_sets"),
        (_too_many_ads, "ad_sets.0.ads"),
        (_ftp_image, "ad_sets.0.ads.0.creative.image_url"),
    ],
    ids=["unknown top-level field", "51 ad sets", "51 ads in a set", "non-http image URL"],
)
def test_a_bad_body_answers_400_naming_the_field_and_stores_nothing(
    account, post, broker_queue: BrokerQueue, change, attr
):
    body = api_example(account.platform_account_id)
    change(body)

    response = post(body)

    assert_validation_error(response, attr)
    assert_nothing_stored_or_sent(broker_queue)


def test_malformed_json_answers_400_and_stores_nothing(post, broker_queue: BrokerQueue):
    response = post(raw='{"ad_account_id": "act_1", "campaign": {')

    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert_nothing_stored_or_sent(broker_queue)


@pytest.mark.parametrize("raw", ["[]", '"a string"', "42", "null", "true"])
def test_json_that_is_not_an_object_answers_400_and_stores_nothing(
    post, broker_queue: BrokerQueue, raw
):
    response = post(raw=raw)

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert_nothing_stored_or_sent(broker_queue)


def _other_teams_account(caller: Any, other_caller: Any) -> str:
    return str(AdAccountFactory(team=other_caller.team).pk)


def _other_teams_account_by_meta_id(caller: Any, other_caller: Any) -> str:
    return AdAccountFactory(team=other_caller.team).platform_account_id


def _deleted_account(caller: Any, other_caller: Any) -> str:
    account = AdAccountFactory(team=caller.team)
    account.soft_delete()
    return account.platform_account_id


def _status(status: str) -> Callable[[Any, Any], str]:
    def make(caller: Any, other_caller: Any) -> str:
        return str(AdAccountFactory(team=caller.team, status=status).pk)

    return make


def _other_platform_account(caller: Any, other_caller: Any) -> str:
    return str(
        AdAccountFactory(
            team=caller.team, platform_type=PlatformType.GOOGLE_ADS, platform_account_id="1234"
        ).pk
    )


def _unknown_uuid(caller: Any, other_caller: Any) -> str:
    return UNKNOWN_ACCOUNT_UUID


def _unknown_meta_id(caller: Any, other_caller: Any) -> str:
    return "act_999999999"


@pytest.mark.parametrize(
    "make_account_id",
    [
        _other_teams_account,
        _other_teams_account_by_meta_id,
        _deleted_account,
        _status(AdAccountStatus.INACTIVE),
        _status(AdAccountStatus.REQUIRES_REAUTH),
        _status(AdAccountStatus.SUSPENDED),
        _other_platform_account,
        _unknown_uuid,
        _unknown_meta_id,
    ],
    ids=[
        "another team's account",
        "another team's account by act_ id",
        "soft-deleted account",
        "INACTIVE account",
        "REQUIRES_REAUTH account",
        "SUSPENDED account",
        "account of another platform",
        "unknown uuid",
        "unknown act_ id",
    ],
)
def test_an_account_out_of_reach_answers_400_on_ad_account_id_like_an_unknown_one(
    caller, other_caller, post, broker_queue: BrokerQueue, make_account_id
):
    unknown = post(api_example(UNKNOWN_ACCOUNT_UUID))
    assert_validation_error(unknown, "ad_account_id")

    response = post(api_example(make_account_id(caller, other_caller)))

    assert_validation_error(response, "ad_account_id")
    # Same errors, same words: the answer must not tell another team's account from none.
    assert response.json() == unknown.json()
    assert_nothing_stored_or_sent(broker_queue)


def test_every_invalid_field_is_listed_at_once(post, broker_queue: BrokerQueue):
    body = api_example("act_999999999")
    del body["campaign"]["name"]
    body["ad_sets"][0]["targeting"] = {"age_min": 18}
    body["ad_sets"][0]["ads"][0]["creative"]["image_url"] = "ftp://cdn.example.com/a.jpg"

    response = post(body)

    assert_validation_error(
        response,
        "ad_account_id",
        "campaign.name",
        "ad_sets.0.targeting.geo_locations",
        "ad_sets.0.ads.0.creative.image_url",
    )
    assert len(response.json()["errors"]) == 4
    assert_nothing_stored_or_sent(broker_queue)


def test_a_body_over_the_upload_limit_answers_413_and_stores_nothing(
    account, post, broker_queue: BrokerQueue, settings
):
    small = api_example(account.platform_account_id)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(json.dumps(small)) + 100

    response = post(tree(account.platform_account_id, ad_sets=3, ads=3))

    assert response.status_code == 413
    assert response.json()["type"] == "client_error"
    assert_nothing_stored_or_sent(broker_queue)
    # A body within the limit still goes through.
    assert post(small).status_code == 202


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _with(path: tuple[str | int, ...], value: Any) -> Callable[[str], dict[str, Any]]:
    """A valid body for the account with one value replaced."""

    def make(account_id: str) -> dict[str, Any]:
        body = api_example(account_id)
        node: Any = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return body

    return make


GARBAGE: dict[str, Any] = {
    "null": "null",
    "empty list": "[]",
    "string": '"str"',
    "number": "123",
    "campaign is a list": '{"campaign": []}',
    "everything the wrong type": json.dumps(
        {"ad_account_id": 5, "campaign": "x", "ad_sets": {"0": 1}}
    ),
    "ad sets of the wrong types": json.dumps(
        {"ad_account_id": [], "campaign": {"name": {}}, "ad_sets": [None, 1, "x", [], {}]}
    ),
    "ads of the wrong types": json.dumps(
        {
            "ad_account_id": {"id": 1},
            "campaign": {"objective": ["OUTCOME_TRAFFIC"], "extra_params": []},
            "ad_sets": [
                {
                    "targeting": {"geo_locations": [], "age_min": "18", "genders": "all"},
                    "ads": [None, {"creative": 5}, {"creative": {"call_to_action": []}}],
                }
            ],
        }
    ),
    "numbers where strings go": json.dumps(
        {"ad_account_id": 1.5, "campaign": {"name": 1, "status": 1}, "ad_sets": [{"name": 2}]}
    ),
    "nesting deeper than the parser's recursion limit": _nested(100_000),
    "budget beyond a 64-bit integer": _with(("ad_sets", 0, "daily_budget"), 10**30),
    "spend cap of 2**63": _with(("campaign", "spend_cap"), 2**63),
    "NUL character in extra_params": _with(("ad_sets", 0, "extra_params"), {"note": "a\u0000b"}),
    "NUL character inside targeting": _with(
        ("ad_sets", 0, "targeting", "geo_locations", "cities"), [{"key": "\u0000"}]
    ),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_answers_400_never_500(caller, account, post, broker_queue: BrokerQueue, name):
    garbage = GARBAGE[name]
    raw = garbage if isinstance(garbage, str) else json.dumps(garbage(account.platform_account_id))
    caller.client.raise_request_exception = False  # a crash must show as the 500 a client gets

    response = post(raw=raw)

    assert response.status_code == 400, response.content
    assert response.json()["type"] in {"validation_error", "client_error"}
    assert_nothing_stored_or_sent(broker_queue)


def test_a_start_time_past_year_9999_in_utc_is_refused_not_stored_unreadable(
    account, post, broker_queue: BrokerQueue
):
    body = api_example(account.platform_account_id)
    # 10000-01-01T11:59:59Z once in UTC: PostgreSQL stores it, Python cannot read it back.
    body["ad_sets"][0]["start_time"] = "9999-12-31T23:59:59-12:00"

    response = post(body)

    assert_validation_error(response, "ad_sets.0.start_time")
    assert_nothing_stored_or_sent(broker_queue)


def test_a_multipart_upload_answers_4xx_never_500(caller, account, broker_queue: BrokerQueue):
    caller.client.raise_request_exception = False

    response = caller.client.post(
        URL,
        {"ad_account_id": account.platform_account_id, "image": SimpleUploadedFile("a.jpg", b"x")},
        format="multipart",
    )

    assert response.status_code in {400, 415}, response.content
    assert_nothing_stored_or_sent(broker_queue)


def test_an_unknown_platform_answers_404(account, post, broker_queue: BrokerQueue):
    response = post(api_example(account.platform_account_id), path="/api/v1/ads/unknownplatform")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert_nothing_stored_or_sent(broker_queue)


def test_an_unauthenticated_submission_answers_401(account, post, broker_queue: BrokerQueue):
    response = post(api_example(account.platform_account_id), client=APIClient())

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert_nothing_stored_or_sent(broker_queue)


def test_a_submission_with_a_trailing_slash_answers_directly(account, post):
    response = post(api_example(account.platform_account_id), path=f"{URL}/")

    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/jobs/{response.json()['id']}"


def test_a_superuser_may_submit_for_any_teams_account(account, post):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = APIClient()
    client.force_authenticate(admin)

    response = post(api_example(account.platform_account_id), client=client)

    assert response.status_code == 202
    assert CampaignJob.objects.get().team == account.team


# --- Cost ---------------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_tree(caller, account):
    def queries_for(body: dict[str, Any]) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = caller.client.post(URL, body, format="json")
        assert response.status_code == 202, response.content
        return len(queries.captured_queries)

    queries_for(tree(account.platform_account_id, campaign_name="warm-up"))
    one_by_one = queries_for(tree(account.platform_account_id, ad_sets=1, ads=1))
    five_by_ten = queries_for(tree(account.platform_account_id, ad_sets=5, ads=10, image_url=None))

    assert five_by_ten == one_by_one


def test_a_submission_writes_the_job_and_its_whole_plan_in_one_statement(caller, account, post):
    with CaptureQueriesContext(connection) as queries:
        response = post(tree(account.platform_account_id, ad_sets=3, ads=3, image_url=None))

    assert response.status_code == 202, response.content
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "WITH"))]
    assert [re.findall(r'INSERT INTO "(\w+)"', sql) for sql in writes] == [
        [
            "campaign_jobs",
            "campaigns",
            "meta_campaign_details",
            "media_assets",
            "ad_sets",
            "meta_ad_set_details",
            "creatives",
            "meta_creative_details",
            "ads",
            "meta_ad_details",
            "audit_events",  # the job.created event
        ],
    ]
    assert Ad.objects.count() == 9 and MediaAsset.objects.count() == 9


def test_a_submission_never_reads_the_accounts_credentials(caller, account, post):
    # Credentials are for the worker: decrypting them on every submission costs CPU for nothing.
    with CaptureQueriesContext(connection) as queries:
        response = post(api_example(account.platform_account_id))

    assert response.status_code == 202, response.content
    assert not [q["sql"] for q in queries.captured_queries if "credentials" in q["sql"]]
    job = CampaignJob.objects.get()
    assert (job.team, job.ad_account) == (account.team, account)
