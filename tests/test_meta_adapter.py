"""The job engine with the Meta adapter in-process, through the real SDK over HTTP to the sandbox.

These pin down what each execution mode sends (round trips, batches) and how a run resumes;
the worker-level behaviour (Celery, leases, the sweeper) is covered in tests/e2e.
"""

from __future__ import annotations

import base64
import copy
import http.server
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount

from adaccounts.models import AdAccount
from campaigns import services
from campaigns.engine import runner
from campaigns.engine.adapter import LeaseLost, job_label
from campaigns.engine.checkpoints import job_update_rows
from campaigns.engine.claims import job_claim
from campaigns.engine.runner import JobRun, execute_job
from campaigns.engine.worker import job_execute
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, JobStatus, MediaAsset
from platforms.meta import params
from platforms.meta.adapter import MetaAdapter
from platforms.meta.client import build_meta_client
from platforms.meta.plan import MetaRows
from platforms.meta.sandbox.server import SandboxServer
from platforms.meta.uploads import video_title
from tests.factories import AdAccountFactory
from tests.images import PngServer, make_png
from tests.payloads import api_example

pytestmark = pytest.mark.django_db

TOKEN = "executor-test-token"
ACCOUNT = "act_200000000000001"
PAGE = "200000000000002"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    server = PngServer()
    yield server.url()
    server.close()


@pytest.fixture
def graph(sandbox: SandboxServer, settings) -> SandboxServer:
    requests.post(f"{sandbox.base_url}/__sandbox__/reset", timeout=5).raise_for_status()
    requests.post(
        f"{sandbox.base_url}/__sandbox__/accounts",
        json={"token": TOKEN, "account_id": ACCOUNT, "page_ids": [PAGE]},
        timeout=5,
    ).raise_for_status()
    settings.META_GRAPH_URL = sandbox.base_url
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    settings.META_EXECUTION_MODE = "batch"
    return sandbox


def sandbox_get(sandbox: SandboxServer, path: str) -> Any:
    response = requests.get(f"{sandbox.base_url}/__sandbox__/{path}", timeout=5)
    response.raise_for_status()
    return response.json()["data"]


def graph_requests(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return sandbox_get(sandbox, "requests")


def objects(sandbox: SandboxServer, kind: str) -> list[dict[str, Any]]:
    return [o for o in sandbox_get(sandbox, f"objects?type={kind}") if not o.get("deleted")]


def body_with(caller, *, ad_sets: int, ads: int, media: dict[str, str]) -> dict[str, Any]:
    account = AdAccount.objects.filter(platform_account_id=ACCOUNT).first() or AdAccountFactory(
        team=caller.team, platform_account_id=ACCOUNT, credentials={"access_token": TOKEN}
    )
    body = api_example(str(account.pk))
    template_set = body["ad_sets"][0]
    template_ad = template_set["ads"][0]
    body["ad_sets"] = []
    for i in range(ad_sets):
        ad_set = copy.deepcopy(template_set)
        ad_set["name"] = f"Set {i}"
        ad_set["ads"] = []
        for j in range(ads):
            ad = copy.deepcopy(template_ad)
            ad["name"] = f"Ad {i}.{j}"
            creative = ad["creative"]
            creative["name"] = f"Creative {i}.{j}"
            creative["page_id"] = PAGE
            creative.pop("image_url", None)
            creative.update(media)
            ad_set["ads"].append(ad)
        body["ad_sets"].append(ad_set)
    return body


def run(caller, body: dict[str, Any]) -> CampaignJob:
    submission = services.job_submit(user=caller.user, platform_type="META", data=body)
    job = job_claim(job_id=submission.job.pk)
    assert job is not None
    execute_job(job, MetaAdapter())
    job.refresh_from_db()
    return job


def uploaded_hash(sandbox: SandboxServer, image_server: str) -> str:
    response = requests.post(
        f"{sandbox.base_url}/v26.0/{ACCOUNT}/adimages",
        data={"access_token": TOKEN, "bytes": base64.b64encode(make_png(9, 9))},
        timeout=5,
    )
    response.raise_for_status()
    return next(iter(response.json()["images"].values()))["hash"]


def test_a_1_1_1_job_with_an_image_hash_costs_one_graph_request_in_batch_mode(
    caller, graph, image_server
):
    image_hash = uploaded_hash(graph, image_server)
    before = len(graph_requests(graph))

    job = run(caller, body_with(caller, ad_sets=1, ads=1, media={"image_hash": image_hash}))

    assert job.status == JobStatus.SUCCESS, job.error
    sent = graph_requests(graph)[before:]
    assert [r["path"] for r in sent] == ["/v26.0"]
    assert len(objects(graph, "campaign")) == len(objects(graph, "adset")) == 1
    assert len(objects(graph, "adcreative")) == len(objects(graph, "ad")) == 1


@pytest.mark.parametrize("mode", ["batch", "sequential"])
def test_jobs_run_by_one_thread_reuse_one_connection_to_graph(
    caller, graph, image_server, settings, mode
):
    settings.META_EXECUTION_MODE = mode
    image_hash = uploaded_hash(graph, image_server)
    before = len(graph_requests(graph))

    for n in range(3):
        body = body_with(caller, ad_sets=1, ads=1, media={"image_hash": image_hash})
        body["campaign"]["name"] = f"Job {n}"
        assert run(caller, body).status == JobStatus.SUCCESS

    sent = graph_requests(graph)[before:]
    assert len(sent) == (3 if mode == "batch" else 12)
    # No new TCP (or, with Meta, TLS) connection per job: the thread keeps its connection.
    assert len({r["connection"] for r in sent}) == 1, {r["connection"] for r in sent}


def test_jobs_of_different_accounts_share_connections_but_never_a_token(graph):
    first = build_meta_client(account_id=ACCOUNT, credentials={"access_token": "token-one"})
    second = build_meta_client(account_id=ACCOUNT, credentials={"access_token": "token-two"})
    first_http, second_http = first.api._session.requests, second.api._session.requests

    assert first_http is not second_http
    assert first_http.get_adapter(graph.base_url) is second_http.get_adapter(graph.base_url)
    assert (first_http.params["access_token"], second_http.params["access_token"]) == (
        "token-one",
        "token-two",
    )
    # Another thread has its own connections.
    adapters: list[Any] = []
    thread = threading.Thread(
        target=lambda: adapters.append(
            build_meta_client(
                account_id=ACCOUNT, credentials={"access_token": "t"}
            ).api._session.requests.get_adapter(graph.base_url)
        )
    )
    thread.start()
    thread.join()
    assert adapters[0] is not first_http.get_adapter(graph.base_url)


def test_a_run_that_stalled_and_lost_its_job_sends_nothing_more_to_graph(
    caller, graph, image_server, settings
):
    body = body_with(caller, ad_sets=1, ads=1, media={"image_hash": "h"})
    job = job_claim(
        job_id=services.job_submit(user=caller.user, platform_type="META", data=body).job.pk
    )
    run = JobRun(job, MetaAdapter())
    session = MetaAdapter().open(
        job=job,
        account=job.ad_account,
        credentials=job.ad_account.credentials,
        before_send=run.heartbeat,
    )
    # The worker froze after its last check; meanwhile the sweeper gave the job to another run.
    run._last_heartbeat -= settings.JOB_LEASE_SECONDS
    CampaignJob.objects.filter(pk=job.pk).update(claimed_by="another run")
    before = len(graph_requests(graph))

    with pytest.raises(LeaseLost):
        session.call("campaign", lambda: session.fb_account.create_campaign(params={"name": "x"}))

    assert len(graph_requests(graph)) == before
    assert objects(graph, "campaign") == []


def test_sequential_mode_costs_one_request_per_object(caller, graph, image_server, settings):
    settings.META_EXECUTION_MODE = "sequential"
    image_hash = uploaded_hash(graph, image_server)
    before = len(graph_requests(graph))

    job = run(caller, body_with(caller, ad_sets=1, ads=1, media={"image_hash": image_hash}))

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(graph_requests(graph)[before:]) == 4


def test_a_3x3_tree_takes_one_batch_per_ad_set_and_records_every_id(caller, graph, image_server):
    before = len(graph_requests(graph))
    job = run(
        caller,
        body_with(caller, ad_sets=3, ads=3, media={"image_url": f"{image_server}/img0.png"}),
    )

    assert job.status == JobStatus.SUCCESS, job.error
    sent = [r["path"] for r in graph_requests(graph)[before:]]
    # One upload (the image is shared), then Meta's rule: one ad set of a campaign per batch.
    assert sent == ["/v26.0/act_200000000000001/adimages", "/v26.0", "/v26.0", "/v26.0"]
    plan = MetaRows.load(job)
    assert {s.platform_id for s in plan.ad_sets} == {o["id"] for o in objects(graph, "adset")}
    assert {a.platform_id for a in plan.ads} == {o["id"] for o in objects(graph, "ad")}
    assert {c.platform_id for c in plan.creatives} == {
        o["id"] for o in objects(graph, "adcreative")
    }
    assert job.platform_campaign_id == objects(graph, "campaign")[0]["id"]


def test_a_batch_never_holds_more_than_50_operations(caller, graph, image_server):
    image_hash = uploaded_hash(graph, image_server)
    before = len(graph_requests(graph))

    job = run(caller, body_with(caller, ad_sets=1, ads=30, media={"image_hash": image_hash}))

    assert job.status == JobStatus.SUCCESS, job.error
    batches = [r for r in graph_requests(graph)[before:] if r["path"] == "/v26.0"]
    sizes = [len(r["operations"]) for r in batches]
    # 1 campaign + 1 ad set + 30 creatives + 30 ads = 62 operations
    assert sizes == [50, 12]
    assert len(objects(graph, "ad")) == 30


def test_images_of_a_job_upload_concurrently_once_each(caller, graph, image_server):
    body = body_with(caller, ad_sets=1, ads=4, media={})
    for index, ad in enumerate(body["ad_sets"][0]["ads"]):
        ad["creative"]["image_url"] = f"{image_server}/img{index}.png"

    job = run(caller, body)

    assert job.status == JobStatus.SUCCESS, job.error
    uploads = [r for r in graph_requests(graph) if r["path"].endswith("/adimages")]
    assert len(uploads) == 4
    assert len(objects(graph, "adimage")) == 4


def test_a_failed_operation_ends_the_job_partial_with_metas_error_and_a_retry_completes_it(
    caller, graph, image_server
):
    image_hash = uploaded_hash(graph, image_server)
    body = body_with(caller, ad_sets=2, ads=1, media={"image_hash": image_hash})
    body["ad_sets"][1]["name"] = "Set 1 [sandbox:permanent]"

    job = run(caller, body)

    assert job.status == JobStatus.PARTIAL_SUCCESS
    assert job.error["step"] == "ad_sets.1"
    assert job.error["transient"] is False
    assert isinstance(job.error["code"], int)
    assert len(objects(graph, "campaign")) == 1

    services.job_retry(job=job)
    job = claim_and_run(job)

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(objects(graph, "campaign")) == 1
    assert len(objects(graph, "adset")) == 2
    assert len(objects(graph, "ad")) == 2


def test_a_dropped_batch_answer_is_reconciled_without_duplicates(caller, graph, image_server):
    image_hash = uploaded_hash(graph, image_server)
    body = body_with(caller, ad_sets=1, ads=2, media={"image_hash": image_hash})
    body["campaign"]["name"] = "Spring sale [sandbox:drop]"

    job = run(caller, body)
    # The connection dropped after Meta created things: a transient, ambiguous failure.
    assert job.status == JobStatus.PENDING
    assert job.error["transient"] is True

    job = claim_and_run(job)  # made due at once: the backoff is the worker's business

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(objects(graph, "campaign")) == 1
    assert len(objects(graph, "adset")) == 1
    assert len(objects(graph, "ad")) == 2


def test_loading_a_plan_takes_the_same_queries_whatever_its_size(caller, graph, image_server):
    small = services.job_submit(
        user=caller.user,
        platform_type="META",
        data=body_with(caller, ad_sets=1, ads=1, media={"image_hash": "h"}),
    ).job
    body = body_with(caller, ad_sets=5, ads=10, media={"image_hash": "h"})
    large = services.job_submit(user=caller.user, platform_type="META", data=body).job

    with CaptureQueriesContext(connection) as small_queries:
        MetaRows.load(small)
    with CaptureQueriesContext(connection) as large_queries:
        plan = MetaRows.load(large)

    assert len(plan.ads) == 50
    assert len(large_queries) == len(small_queries)


@pytest.mark.parametrize(("ad_sets", "ads", "statements"), [(1, 1, 13), (3, 3, 17)])
def test_a_batch_job_costs_a_handful_of_sql_statements(
    caller, graph, image_server, ad_sets, ads, statements
):
    image_hash = uploaded_hash(graph, image_server)
    body = body_with(caller, ad_sets=ad_sets, ads=ads, media={"image_hash": image_hash})
    job = services.job_submit(user=caller.user, platform_type="META", data=body).job

    with CaptureQueriesContext(connection) as queries:
        job_execute(job_id=str(job.pk))

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCESS, job.error
    # The claim 4 (BEGIN, lock, UPDATE ... RETURNING, COMMIT), the plan 2, one write before
    # and one after each batch (one batch per ad set), the outcome 5 (its UPDATE, the job's
    # audit event and the look for a webhook or callback to notify, in a savepoint of the
    # test's transaction): however many objects.
    assert len(queries) == statements, [q["sql"][:80] for q in queries]


def test_checkpoints_of_several_tables_are_written_together_while_the_job_is_held(
    caller, graph, image_server, sql_path
):
    body = body_with(caller, ad_sets=1, ads=2, media={"image_hash": "h"})
    job = job_claim(
        job_id=services.job_submit(user=caller.user, platform_type="META", data=body).job.pk
    )
    plan = MetaRows.load(job)
    now = timezone.now()
    changes = {
        Campaign: {plan.campaign.pk: {"platform_id": "c1", "attempted_at": now}},
        Ad: {ad.pk: {"platform_id": f"a{n}", "attempted_at": now} for n, ad in enumerate(plan.ads)},
    }

    with CaptureQueriesContext(connection) as queries:
        assert job_update_rows(job, changes) is True
    if sql_path == "postgresql":
        assert len(queries) == 1

    plan = MetaRows.load(job)
    assert (plan.campaign.platform_id, plan.campaign.attempted_at) == ("c1", now)
    assert [(ad.platform_id, ad.attempted_at) for ad in plan.ads] == [("a0", now), ("a1", now)]
    assert plan.ad_sets[0].platform_id is None

    # Taken away (the sweeper handed it to another run): this run writes nothing more.
    CampaignJob.objects.filter(pk=job.pk).update(claimed_by="another run")
    later = {
        Campaign: {plan.campaign.pk: {"platform_id": "stale", "attempted_at": None}},
        AdSet: {plan.ad_sets[0].pk: {"platform_id": "stale", "attempted_at": None}},
    }
    assert job_update_rows(job, later) is False
    plan = MetaRows.load(job)
    assert (plan.campaign.platform_id, plan.ad_sets[0].platform_id) == ("c1", None)


def test_checkpoint_rows_of_one_table_may_change_different_fields(caller, graph):
    body = body_with(caller, ad_sets=1, ads=2, media={"image_hash": "h"})
    job = services.job_submit(user=caller.user, platform_type="META", data=body).job
    ads = MetaRows.load(job).ads
    job_claim(job_id=job.pk, worker="w")
    job.claimed_by = "w"
    assert job_update_rows(
        job, {Ad: {ads[0].pk: {"platform_id": "1"}, ads[1].pk: {"name": "Renamed"}}}
    )
    rows = {ad.pk: ad for ad in Ad.objects.filter(job=job)}
    assert (rows[ads[0].pk].platform_id, rows[ads[0].pk].name) == ("1", ads[0].name)
    assert (rows[ads[1].pk].platform_id, rows[ads[1].pk].name) == (None, "Renamed")


@pytest.fixture
def graph_without_batch(graph: SandboxServer) -> Iterator[str]:
    """A Graph endpoint that refuses batch requests (as a partial fake or a proxy may) and
    forwards every other call to the sandbox."""

    class Proxy(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.command == "POST" and self.path.split("?")[0].rstrip("/") == "/v26.0":
                refused = b'{"error": {"message": "Unsupported post request.", "code": 100}}'
                self._answer(400, refused, "application/json")
                return
            upstream = requests.request(
                self.command,
                f"{graph.base_url}{self.path}",
                data=body,
                headers={"Content-Type": self.headers.get("Content-Type", "")},
                timeout=10,
            )
            self._answer(
                upstream.status_code,
                upstream.content,
                upstream.headers.get("Content-Type", "application/json"),
            )

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_an_endpoint_that_refuses_batches_gets_one_request_per_object(
    caller, graph, graph_without_batch, image_server, settings, monkeypatch
):
    monkeypatch.setattr(runner, "_refused_scopes", {})
    settings.META_GRAPH_URL = graph_without_batch
    image_hash = uploaded_hash(graph, image_server)

    job = run(caller, body_with(caller, ad_sets=2, ads=1, media={"image_hash": image_hash}))

    assert job.status == JobStatus.SUCCESS, job.error
    assert len(objects(graph, "campaign")) == 1
    assert len(objects(graph, "adset")) == 2
    assert len(objects(graph, "ad")) == 2
    # The refusal is remembered: the next job goes straight to single requests.
    before = len(graph_requests(graph))
    body = body_with(caller, ad_sets=1, ads=1, media={"image_hash": image_hash})
    body["campaign"]["name"] = "Second"
    assert run(caller, body).status == JobStatus.SUCCESS
    assert len(graph_requests(graph)) - before == 4


def claim_and_run(job: CampaignJob) -> CampaignJob:
    """Make the job due, claim it and run it, as a worker would."""
    CampaignJob.objects.filter(pk=job.pk).update(next_attempt_at=None)
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    execute_job(claimed, MetaAdapter())
    job.refresh_from_db()
    return job


def test_a_lost_create_never_adopts_an_advertisers_object_of_the_same_name(
    caller, graph, image_server
):
    image_hash = uploaded_hash(graph, image_server)
    body = body_with(caller, ad_sets=1, ads=1, media={"image_hash": image_hash})
    job = services.job_submit(user=caller.user, platform_type="META", data=body).job
    rows = MetaRows.load(job)
    # The advertiser's own campaign (made in Ads Manager): the same name, no label of ours.
    own = params.campaign_params(rows.campaign, "unused")
    del own["adlabels"]
    client = build_meta_client(account_id=ACCOUNT, credentials={"access_token": TOKEN})
    advertisers = FbAdAccount(ACCOUNT, api=client.api).create_campaign(params=own)["id"]
    # The job's campaign create left and its answer was lost.
    Campaign.objects.filter(pk=rows.campaign.pk).update(attempted_at=timezone.now())

    job = claim_and_run(job)

    assert job.status == JobStatus.SUCCESS, job.error
    assert job.platform_campaign_id != advertisers
    assert len(objects(graph, "campaign")) == 2
    (ad_set,) = objects(graph, "adset")
    assert ad_set["fields"]["campaign_id"] == job.platform_campaign_id


@pytest.mark.parametrize("mode", ["batch", "sequential"])
def test_a_campaign_meta_refuses_leaves_nothing_on_the_account(
    caller, graph, image_server, settings, mode
):
    settings.META_EXECUTION_MODE = mode
    image_hash = uploaded_hash(graph, image_server)
    body = body_with(caller, ad_sets=2, ads=1, media={"image_hash": image_hash})
    body["campaign"]["name"] = "Spring [sandbox:permanent]"

    job = run(caller, body)

    assert job.status == JobStatus.FAILED
    assert job.error["step"] == "campaign"
    for kind in ("campaign", "adset", "adcreative", "ad"):
        assert objects(graph, kind) == [], kind
    rows = MetaRows.load(job)
    # Known not to have been made: a retry looks nothing up.
    assert all(row.attempted_at is None for row in (rows.campaign, *rows.ad_sets, *rows.creatives))


@pytest.mark.parametrize("mode", ["batch", "sequential"])
def test_an_ad_set_meta_refuses_leaves_nothing_of_its_ads(
    caller, graph, image_server, settings, mode
):
    settings.META_EXECUTION_MODE = mode
    image_hash = uploaded_hash(graph, image_server)
    body = body_with(caller, ad_sets=2, ads=1, media={"image_hash": image_hash})
    body["ad_sets"][1]["name"] = "Set 1 [sandbox:permanent]"

    job = run(caller, body)

    assert job.status == JobStatus.PARTIAL_SUCCESS
    assert job.error["step"] == "ad_sets.1"
    assert "Creative 1.0" not in {o["fields"]["name"] for o in objects(graph, "adcreative")}
    assert "Ad 1.0" not in {o["fields"]["name"] for o in objects(graph, "ad")}


def test_a_lost_video_upload_is_found_by_its_title_in_one_request(caller, graph, image_server):
    body = body_with(
        caller,
        ad_sets=1,
        ads=1,
        media={"video_url": f"{image_server}/clip.mp4", "thumbnail_hash": "h"},
    )
    job = services.job_submit(user=caller.user, platform_type="META", data=body).job
    asset = MediaAsset.objects.get(job=job)
    client = build_meta_client(account_id=ACCOUNT, credentials={"access_token": TOKEN})
    library = FbAdAccount(ACCOUNT, api=client.api)
    for n in range(3):  # the advertiser's library
        library.create_ad_video(params={"file_url": f"{image_server}/v{n}.mp4", "title": f"v{n}"})
    title = video_title(job_label(job), asset.pk)
    # The job's upload reached Meta; its answer was lost.
    lost = library.create_ad_video(params={"file_url": asset.source_url, "title": title})["id"]
    MediaAsset.objects.filter(pk=asset.pk).update(attempted_at=timezone.now())
    before = len(graph_requests(graph))

    claim_and_run(job)

    asset.refresh_from_db()
    assert asset.platform_id == lost
    assert len(objects(graph, "advideo")) == 4
    lookups = [
        r
        for r in graph_requests(graph)[before:]
        if r["method"] == "GET" and r["path"].endswith("/advideos")
    ]
    assert len(lookups) == 1
    assert lookups[0]["params"]["title"] == title


@pytest.fixture
def videos_never_ready(graph: SandboxServer) -> Iterator[None]:
    def configure(seconds: float) -> None:
        requests.post(
            f"{graph.base_url}/__sandbox__/config",
            json={"video_ready_after": seconds},
            timeout=5,
        ).raise_for_status()

    configure(24 * 3600)
    yield
    configure(5.0)  # the sandbox's default; a reset keeps the configuration


def test_a_video_meta_never_finishes_processing_ends_the_job_after_the_longest_wait(
    caller, graph, image_server, videos_never_ready
):
    body = body_with(
        caller,
        ad_sets=1,
        ads=1,
        media={"video_url": f"{image_server}/clip.mp4", "thumbnail_hash": "h"},
    )
    job = services.job_submit(user=caller.user, platform_type="META", data=body).job

    job = claim_and_run(job)
    # Still encoding: the job waits, no attempt spent.
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)

    # The longest wait (META_VIDEO_MAX_WAIT_SECONDS, an hour) passes.
    MediaAsset.objects.filter(job=job).update(attempted_at=timezone.now() - timedelta(hours=2))
    job = claim_and_run(job)

    assert job.status == JobStatus.FAILED
    assert job.error["step"] == "video"
    assert "had not processed the video" in job.error["message"]
    assert objects(graph, "campaign") == []
