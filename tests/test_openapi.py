"""The OpenAPI document (`GET /api/schema/`) as a client generator and a fuzzer read it: a valid
OpenAPI 3 document, the submission body typed by the serializers that validate it, every answer
under /api/ JSON in the shape the document gives it, and query parameters taken only as
documented.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_openapi
from rest_framework import serializers
from rest_framework.test import APIClient
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.modes import GenerationMode
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import positive_data_acceptance

from audit.models import AuditEvent
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, JobStatus
from mojito.wsgi import application
from platforms.meta import rules
from platforms.meta.sandbox.server import SandboxServer
from platforms.meta.validation import MetaAdRequestSerializer
from tests.factories import AdAccountFactory
from tests.openapi import (
    api_document,
    component_validator,
    errors_of,
    operation,
    request_validator,
    response_validator,
)
from tests.payloads import META_SUBMIT_URL, api_example

pytestmark = pytest.mark.django_db

SUBMIT = "/api/v1/ads/meta/"  # as the document writes the path


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return api_document()


@pytest.fixture
def account(caller):
    return AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-openapi"})


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield path, method, op


# --- The document ------------------------------------------------------------------------------


def test_the_document_is_valid_openapi(document):
    validate_openapi(document)


def test_the_document_builds_without_a_warning(tmp_path):
    # A clashing enum or component name, or a field spectacular cannot type, is a warning.
    call_command("spectacular", "--fail-on-warn", "--validate", file=str(tmp_path / "s.yaml"))


def test_every_error_answer_is_documented_as_json_in_the_standard_shape(document):
    for path, method, op in _operations(document):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            name = schema["$ref"].rsplit("/", 1)[-1]
            assert name.endswith("ErrorResponse") or name.startswith("ErrorResponse"), (
                f"{method} {path} {status}: {name}"
            )
        assert op["responses"]["500"], f"{method} {path}"


def test_every_400_is_the_one_validation_or_parse_error(document):
    for path, method, op in _operations(document):
        if "400" in op["responses"]:
            schema = op["responses"]["400"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse400"}, (method, path)


def test_request_bodies_are_json_only(document):
    for path, method, op in _operations(document):
        if "requestBody" in op:
            assert list(op["requestBody"]["content"]) == ["application/json"], (method, path)


# --- The submission body -------------------------------------------------------------------------


def _component(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The component `schema` refers to, also when it is "that or null"."""
    [ref] = [option["$ref"] for option in schema.get("oneOf", [schema]) if "$ref" in option]
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _assert_mirrors(document: dict[str, Any], serializer: serializers.Serializer, schema: dict):
    """The component has exactly the serializer's fields, required exactly when the serializer
    requires them, closed to other keys; and the same below, level by level."""
    fields = serializer.fields
    name = type(serializer).__name__
    assert set(schema["properties"]) == set(fields), name
    required = {key for key, field in fields.items() if field.required}
    assert set(schema.get("required", [])) == required, name
    assert schema["additionalProperties"] is False, name
    for key, field in fields.items():
        child = field.child if isinstance(field, serializers.ListSerializer) else field
        if isinstance(child, serializers.Serializer):
            prop = schema["properties"][key]
            ref = prop.get("items", prop)
            _assert_mirrors(document, child, _component(document, ref))


def test_the_submission_body_is_the_serializer_that_validates_it(document):
    body = operation(document, SUBMIT, "post")["requestBody"]
    assert body["required"] is True
    schema = _component(document, body["content"]["application/json"]["schema"])
    # The generic app's own field, taken out before the platform's validator sees the body.
    properties = dict(schema["properties"])
    assert properties.pop("callback_url")["format"] == "uri"

    _assert_mirrors(document, MetaAdRequestSerializer(), {**schema, "properties": properties})


def test_the_api_example_is_a_valid_submission(document):
    assert errors_of(request_validator(document, "MetaAdRequest"), api_example()) == []


def _with_creative(**creative: Any) -> dict[str, Any]:
    body = api_example()
    spec = body["ad_sets"][0]["ads"][0]["creative"]
    spec.update(creative)
    for key, value in list(spec.items()):
        if value is None:
            del spec[key]
    return body


CARD = {"link": "https://example.com/1", "image_url": "https://cdn.example.com/1.jpg"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_with_creative(image_url=None, cards=[CARD, CARD]), id="carousel"),
        pytest.param(
            {
                **api_example(),
                "ad_sets": [
                    {
                        **api_example()["ad_sets"][0],
                        "ads": [{"name": "Post", "creative": {"object_story_id": "1_2"}}],
                    }
                ],
            },
            id="facebook post",
        ),
        pytest.param(_with_creative(creative_features={"image_touchups": "OPT_IN"}), id="opt in"),
    ],
)
def test_every_creative_format_is_in_the_schema(document, body):
    assert errors_of(request_validator(document, "MetaAdRequest"), body) == []


def _broken(change: Any) -> dict[str, Any]:
    body = api_example()
    change(body)
    return body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_broken(lambda b: b["campaign"].pop("name")), id="no campaign.name"),
        pytest.param(_broken(lambda b: b["campaign"].update(objective="REACH")), id="objective"),
        pytest.param(_broken(lambda b: b["campaign"].update(status="DELETED")), id="status"),
        pytest.param(_broken(lambda b: b.update(ad_sets=[])), id="no ad set"),
        pytest.param(_broken(lambda b: b.update(ad_sets=b["ad_sets"] * 51)), id="51 ad sets"),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0].update(ads=b["ad_sets"][0]["ads"] * 51)),
            id="51 ads",
        ),
        pytest.param(_broken(lambda b: b["ad_sets"][0].update(daily_budget="2000")), id="string"),
        pytest.param(_broken(lambda b: b["ad_sets"][0].update(daily_budget=0)), id="budget 0"),
        pytest.param(_broken(lambda b: b.update(extra=1)), id="unknown key"),
        pytest.param(_broken(lambda b: b["ad_sets"][0]["targeting"].clear()), id="no geo"),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0]["targeting"].update(age_min=12)), id="age 12"
        ),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0]["targeting"].update(genders=[3])), id="gender 3"
        ),
        pytest.param(
            _broken(
                lambda b: b["ad_sets"][0]["targeting"]["geo_locations"].update(countries=["X"])
            ),
            id="country",
        ),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0].update(start_time="next monday")), id="date-time"
        ),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0]["ads"][0]["creative"].update(page_id="12a")),
            id="graph id",
        ),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0].update(promoted_object={"pixel_id": "x"})),
            id="promoted id",
        ),
        pytest.param(_with_creative(image_url=None, cards=[CARD]), id="one card"),
        pytest.param(_with_creative(creative_features={"music": "OPT_IN"}), id="unknown feature"),
        pytest.param(
            _with_creative(creative_features={"image_touchups": "YES"}), id="feature status"
        ),
        pytest.param(
            _broken(lambda b: b["ad_sets"][0]["targeting"].update(instagram_positions=["explore"])),
            id="removed placement",
        ),
        pytest.param(
            _broken(
                lambda b: b["ad_sets"][0]["targeting"].update(
                    targeting_automation={"advantage_audience": 2}
                )
            ),
            id="advantage audience 2",
        ),
    ],
)
def test_a_broken_submission_breaks_the_schema(document, body):
    assert errors_of(request_validator(document, "MetaAdRequest"), body)


def test_the_limits_and_enums_are_the_validators_own(document):
    schemas = document["components"]["schemas"]
    ad_sets = schemas["MetaAdRequest"]["properties"]["ad_sets"]
    ads = schemas["MetaAdSet"]["properties"]["ads"]
    targeting = schemas["MetaTargeting"]
    assert (ad_sets["minItems"], ad_sets["maxItems"]) == (1, rules.MAX_AD_SETS)
    assert (ads["minItems"], ads["maxItems"]) == (1, rules.MAX_ADS_PER_AD_SET)
    for key in ("age_min", "age_max"):
        bounds = targeting["properties"][key]
        assert (bounds["minimum"], bounds["maximum"]) == (rules.AGE_MIN, rules.AGE_MAX)
    assert targeting["required"] == ["geo_locations"]
    assert targeting["additionalProperties"] is True
    assert list(schemas["MetaGeoLocations"]["properties"]) == list(rules.GEO_LOCATION_KEYS)
    assert set(schemas["MetaCountryEnum"]["enum"]) == rules.COUNTRY_CODES
    assert set(schemas["MetaObjectiveEnum"]["enum"]) == rules.CURRENT_OBJECTIVES
    assert set(schemas["MetaCreateStatusEnum"]["enum"]) == rules.CREATE_STATUSES
    assert set(schemas["MetaGenderEnum"]["enum"]) == rules.GENDERS
    ad_set = schemas["MetaAdSet"]["properties"]
    assert ad_set["start_time"]["format"] == "date-time"
    assert ad_set["daily_budget"]["minimum"] == 1
    creative = schemas["MetaCreative"]["properties"]
    assert creative["image_url"]["format"] == "uri"
    assert creative["page_id"]["pattern"] == r"^[0-9]+$"


# --- Answers as documented -----------------------------------------------------------------------


def _conforms(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    validator = response_validator(document, path, method, response.status_code)
    assert errors_of(validator, response.json()) == [], response.content


def test_submissions_answer_as_documented(document, caller, account, post_json):
    valid = post_json(f"{META_SUBMIT_URL}?validate_only=true", api_example(str(account.pk)))
    created = post_json(META_SUBMIT_URL, api_example(str(account.pk)), key="k1")
    invalid = post_json(META_SUBMIT_URL, {**api_example(str(account.pk)), "ad_sets": []})
    reused = post_json(META_SUBMIT_URL, api_example(str(account.pk)) | {"x": 1}, key="k1")

    assert [r.status_code for r in (valid, created, invalid, reused)] == [200, 202, 400, 422]
    for response in (valid, created, invalid, reused):
        _conforms(document, SUBMIT, "post", response)
    assert created["Location"] == f"/api/v1/jobs/{created.json()['id']}"


def test_job_answers_are_as_documented(document, caller, account, post_json):
    job_id = post_json(META_SUBMIT_URL, api_example(str(account.pk))).json()["id"]
    listed = caller.client.get("/api/v1/jobs")
    detail = caller.client.get(f"/api/v1/jobs/{job_id}")
    retried = caller.client.post(f"/api/v1/jobs/{job_id}/retry")  # PENDING: 409
    cancelled = caller.client.post(f"/api/v1/jobs/{job_id}/cancel")
    again = caller.client.post(f"/api/v1/jobs/{job_id}/cancel")  # CANCELLED: 409

    assert [r.status_code for r in (listed, detail, retried, cancelled, again)] == [
        200,
        200,
        409,
        200,
        409,
    ]
    _conforms(document, "/api/v1/jobs/", "get", listed)
    _conforms(document, "/api/v1/jobs/{id}/", "get", detail)
    _conforms(document, "/api/v1/jobs/{id}/retry/", "post", retried)
    _conforms(document, "/api/v1/jobs/{id}/cancel/", "post", cancelled)
    _conforms(document, "/api/v1/jobs/{id}/cancel/", "post", again)


def test_a_failed_job_shows_its_error_as_documented(document, caller, account, post_json):
    job_id = post_json(META_SUBMIT_URL, api_example(str(account.pk))).json()["id"]
    error = {
        "message": "Invalid parameter",
        "code": 100,
        "subcode": 1487390,
        "type": "OAuthException",
        "fbtrace_id": "AbC",
        "user_title": "Bad targeting",
        "user_message": "Fix it",
        "transient": False,
        "step": "create_ad_set",
    }
    CampaignJob.objects.filter(pk=job_id).update(status=JobStatus.FAILED, error=error)

    listed = caller.client.get("/api/v1/jobs")
    detail = caller.client.get(f"/api/v1/jobs/{job_id}")

    assert detail.json()["error"] == error
    _conforms(document, "/api/v1/jobs/", "get", listed)
    _conforms(document, "/api/v1/jobs/{id}/", "get", detail)


def test_ad_account_answers_are_as_documented(document, caller, settings):
    # Nothing listens on the discard port: the platform does not answer.
    settings.META_GRAPH_URL = "http://127.0.0.1:9"
    caller.client.raise_request_exception = False  # the 502 is the answer under test
    body = {
        "platform_account_id": "act_42",
        "name": "Docs",
        "platform_type": "META",
        "credentials": {"access_token": "EAAB-openapi"},
    }
    created = caller.client.post("/api/v1/ad_accounts", body, format="json")
    account_id = created.json()["id"]
    duplicate = caller.client.post("/api/v1/ad_accounts", body, format="json")
    listed = caller.client.get("/api/v1/ad_accounts?status=&platform_type=META")
    # A PUT may leave the credentials out (they are kept), as documented.
    kept = {key: value for key, value in body.items() if key != "credentials"}
    replaced = caller.client.put(
        f"/api/v1/ad_accounts/{account_id}", {**kept, "status": "ACTIVE"}, format="json"
    )
    verified = caller.client.post(f"/api/v1/ad_accounts/{account_id}/verify")

    assert [r.status_code for r in (created, duplicate, listed, replaced, verified)] == [
        201,
        400,
        200,
        200,
        502,
    ]
    _conforms(document, "/api/v1/ad_accounts/", "post", created)
    _conforms(document, "/api/v1/ad_accounts/", "post", duplicate)
    _conforms(document, "/api/v1/ad_accounts/", "get", listed)
    _conforms(document, "/api/v1/ad_accounts/{id}/", "put", replaced)
    _conforms(document, "/api/v1/ad_accounts/{id}/verify/", "post", verified)


@pytest.fixture
def post_json(caller):
    """POST JSON as `caller`. The test's transaction never commits, so nothing is published."""

    def send(path: str, body: Any, *, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return caller.client.post(path, body, format="json", headers=headers)

    return send


# --- JSON everywhere under /api/ -----------------------------------------------------------------

UNROUTED = [
    ("get", "/api/"),
    ("get", "/api/nothing"),
    ("post", "/api/v1/ads/META"),
    ("post", "/api/v1/ads/tiktok"),
    ("get", "/api/v1/jobs/a.b"),
    ("post", "/api/v1/ad_accounts/x.y/verify"),
    ("delete", "/api/v1/nothing/here/"),
    ("patch", "/api/v2/jobs"),
    ("options", "/api/nothing"),
]


@pytest.mark.parametrize(("method", "path"), UNROUTED)
@pytest.mark.parametrize("signed_in", [True, False], ids=["token", "anonymous"])
def test_a_path_no_route_matches_answers_the_documented_json_404(
    document, caller, method, path, signed_in
):
    client = caller.client if signed_in else APIClient()

    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert errors_of(component_validator(document, "ErrorResponse404"), response.json()) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/jobs"),
        ("get", "/api/v1/ads/meta"),
        ("put", "/api/v1/teams/"),
        ("post", "/api/schema/"),
        ("post", "/api/docs/"),
    ],
)
def test_a_wrong_method_answers_the_documented_json_405(document, caller, method, path):
    response = getattr(caller.client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert errors_of(component_validator(document, "ErrorResponse405"), response.json()) == []


def test_the_schema_refuses_an_unknown_format_in_json(caller):
    response = caller.client.get("/api/schema/?format=xml")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


# --- Query parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["maybe", "", "yes", "2", "truee", "on"])
def test_an_invalid_validate_only_is_a_400_naming_it(document, account, post_json, value):
    response = post_json(f"{META_SUBMIT_URL}?validate_only={value}", api_example(str(account.pk)))

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == ["validate_only"]
    _conforms(document, SUBMIT, "post", response)
    assert not CampaignJob.objects.exists()


@pytest.mark.parametrize(("value", "status"), [("TRUE", 200), ("1", 200), ("0", 202)])
def test_validate_only_takes_true_false_1_and_0(account, post_json, value, status):
    response = post_json(f"{META_SUBMIT_URL}?validate_only={value}", api_example(str(account.pk)))

    assert response.status_code == status, response.content


@pytest.mark.parametrize("page", ["", "x", "0", "-1", "2"])
def test_a_page_that_does_not_exist_is_the_documented_404(document, caller, account, page):
    response = caller.client.get(f"/api/v1/ad_accounts?page={page}")

    assert response.status_code == 404
    _conforms(document, "/api/v1/ad_accounts/", "get", response)


def test_an_empty_filter_filters_nothing_as_documented(document, caller, account):
    response = caller.client.get("/api/v1/jobs?status=&ad_account_id=&kind=&object_id=")

    assert response.status_code == 200
    parameters = operation(document, "/api/v1/jobs/", "get")["parameters"]
    assert {p["name"] for p in parameters if p.get("allowEmptyValue")} == {
        "status",
        "ad_account_id",
        "kind",
        "object_id",
    }


@pytest.mark.parametrize("query", ["status=NOPE", "ad_account_id=not-a-uuid"])
def test_an_invalid_filter_is_a_400(document, caller, query):
    response = caller.client.get(f"/api/v1/jobs?{query}")

    assert response.status_code == 400
    _conforms(document, "/api/v1/jobs/", "get", response)


# --- Fuzzing: schemathesis against the document -------------------------------------------------

# Cases per operation and mode; the whole run stays well under a minute. `bin/schemathesis`
# runs schemathesis's own CLI against a live server, with as many cases as asked.
FUZZ_EXAMPLES = 12
# schemathesis's pytest plugin does not run on this pytest (it reads Node._nodeid, which
# pytest 9 dropped), so each operation is a plain parametrized hypothesis test. Loading the
# document needs no database: an anonymous GET of the schema reads none.
FUZZED = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = [result.ok() for result in FUZZED.get_all_operations()]
# Every check schemathesis has (its CLI's `--checks all`) but positive_data_acceptance, named
# here rather than taken from its configuration, so that a default turned off cannot thin the
# suite. The stateful ones (use_after_free, ensure_resource_availability) only act on a chain
# of calls, which `bin/schemathesis`'s stateful phase makes.
load_all_checks()
CHECKED = [check for check in CHECKS.get_all() if check is not positive_data_acceptance]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
# The coverage phase's cases (boundaries, empty values, wrong types, one field at a time) are
# deterministic. Every one for the path, query and headers (a few hundred, cheap), and for a
# body the first COVERAGE_BODY_CASES of each scenario (valid object, missing property, value
# above maximum...): all of them would be thousands.
COVERAGE_BODY_CASES = 2


@pytest.fixture(scope="module")
def graph() -> Iterator[SandboxServer]:
    """The Meta sandbox, for verify to reach."""
    with SandboxServer() as server:
        yield server


def webhook_delivery(team: Any, job_id: str) -> Any:
    """A delivery of the job's final state to the team's webhook, as the outbox stores it."""
    from notifications.models import DeliveryTarget, WebhookDelivery, WebhookEvent

    event = WebhookEvent.objects.create(
        type="job.succeeded", team=team, job_id=job_id, object_id=job_id, data={"id": job_id}
    )
    return WebhookDelivery.objects.create(
        event=event, target=DeliveryTarget.WEBHOOK, url="https://hooks.example.com/in"
    )


@pytest.fixture
def fuzz_ids(caller, account, post_json, graph, settings) -> Iterator[dict[str, str]]:
    """Ids of real objects of the caller's, by the collection their paths start with."""
    settings.META_GRAPH_URL = graph.base_url
    job = post_json(META_SUBMIT_URL, api_example(str(account.pk))).json()
    job_id, campaign = job["id"], job["campaign"]
    ad_set = campaign["ad_sets"][0]
    # Live objects, as a successful job leaves them: changes get past their 409.
    CampaignJob.objects.filter(pk=job_id).update(status=JobStatus.SUCCESS)
    Campaign.objects.filter(pk=campaign["id"]).update(platform_id="120210000000001")
    AdSet.objects.filter(pk=ad_set["id"]).update(platform_id="120210000000002")
    Ad.objects.filter(pk=ad_set["ads"][0]["id"]).update(platform_id="120210000000003")
    # The WSGI app runs inside the test's transaction, as Django's test client does: without
    # this, the end of each request would close the connection the transaction lives on.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "jobs": job_id,
            "ad_accounts": str(account.pk),
            "campaigns": campaign["id"],
            "ad_sets": ad_set["id"],
            "ads": ad_set["ads"][0]["id"],
            # The submission's own event (job.created).
            "audit_events": str(AuditEvent.objects.get(object_id=job_id).pk),
            "teams": str(caller.team.pk),
            "webhook_deliveries": str(webhook_delivery(caller.team, job_id).pk),
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_fuzzing_reaches_every_operation_of_the_document(document):
    fuzzed = {(op.method.lower(), op.path) for op in OPERATIONS}
    assert fuzzed == {(method, path) for path, method, _ in _operations(document)}
    names = {check.__name__ for check in CHECKED}
    assert "not_a_server_error" in names and "response_schema_conformance" in names
    assert "positive_data_acceptance" not in names


def _with_live_id(case: Any, fuzz_ids: dict[str, str], kind: str) -> None:
    if "id" in (case.path_parameters or {}):
        # A real object of the caller's, so that the operation gets past its 404.
        case.path_parameters["id"] = fuzz_ids[kind]


def coverage_cases(api_operation: Any) -> list[Any]:
    """The coverage phase's cases for `api_operation`, bounded as COVERAGE_BODY_CASES says."""
    generator = CoverageGenerator(
        operation=api_operation,
        generation_modes=MODES,
        generation_config=FUZZED.config.generation_for(operation=api_operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=NO_FEEDBACK,
    )
    cases, per_scenario = [], Counter[tuple[str, str]]()
    for case in generator:
        data = case.meta.phase.data
        if data.parameter_location == ParameterLocation.BODY:
            scenario = (data.scenario.value, case.meta.generation.mode.value)
            per_scenario[scenario] += 1
            if per_scenario[scenario] > COVERAGE_BODY_CASES:
                continue
        cases.append(case)
    return cases


@pytest.mark.parametrize(
    "api_operation", [op for op in OPERATIONS if len(op.body)], ids=lambda op: op.label
)
def test_a_null_character_in_any_json_body_is_a_400_naming_it(
    document, api_operation, caller, fuzz_ids
):
    # PostgreSQL stores no U+0000 in text or JSONB (its manual, "Character Types" and "JSON
    # Types"), in a key or a value, so the parsers refuse it (mojito/parsers.py). Every body
    # goes through the same parser, so every operation with one answers the same.
    kind = api_operation.path.split("/")[3]
    path = api_operation.path.replace("{id}", fuzz_ids[kind])
    send = getattr(caller.client, api_operation.method.lower())

    response = send(path, {"targeting": {"geo\u0000": ["US"]}, "name": "a\u0000"}, format="json")

    assert response.status_code == 400, response.content
    # DRF's own code for it (its CharField's), whichever field or parser finds it.
    assert {(e["attr"], e["code"]) for e in response.json()["errors"]} == {
        ("targeting.geo", "null_characters_not_allowed"),
        ("name", "null_characters_not_allowed"),
    }
    _conforms(document, api_operation.path, api_operation.method, response)


@pytest.mark.parametrize(
    "api_operation",
    [op for op in OPERATIONS if len(op.query) and not len(op.body)],
    ids=lambda op: op.label,
)
def test_an_empty_query_parameter_is_refused_or_documented_as_none_given(
    document, api_operation, caller, fuzz_ids
):
    # DRF reads an empty query value such as `?until=` or `?format=` as not given, so the
    # default applies; the document must then say an empty value is allowed
    # (`allowEmptyValue`, mojito/openapi.py), or the API must refuse it with a 400 naming it.
    kind = api_operation.path.split("/")[3]
    path = api_operation.path.replace("{id}", fuzz_ids.get(kind, ""))
    send = getattr(caller.client, api_operation.method.lower())
    parameters = operation(document, api_operation.path, api_operation.method)["parameters"]
    for parameter in (p for p in parameters if p["in"] == "query"):
        name = parameter["name"]
        empty_is_valid = not errors_of(
            OAS31Validator(parameter["schema"], format_checker=oas31_format_checker), ""
        )

        response = send(f"{path}?{name}=")

        if response.status_code < 400:
            assert parameter.get("allowEmptyValue") or empty_is_valid, (name, response.content)
        elif name == "page":
            assert response.status_code == 404  # as every page that does not exist
        else:
            assert response.status_code == 400, (name, response.content)
            assert [e["attr"] for e in response.json()["errors"]] == [name]


@pytest.mark.parametrize("api_operation", OPERATIONS, ids=lambda op: op.label)
def test_every_boundary_answers_as_documented(api_operation, caller, fuzz_ids):
    """schemathesis's coverage phase (the first of `bin/schemathesis`): e.g. `?until=` (empty)
    is a 400, or documented as allowed (`allowEmptyValue`) when it means "not given"."""
    kind = api_operation.path.split("/")[3]
    failures = []
    for case in coverage_cases(api_operation):
        if case.meta.phase.data.parameter_location != ParameterLocation.PATH:
            _with_live_id(case, fuzz_ids, kind)
        try:
            case.call_and_validate(
                headers={"Authorization": f"Token {caller.token}"}, checks=CHECKED
            )
        except (Failure, FailureGroup) as exc:
            failures.append(f"{case.meta.phase.data.description}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("api_operation", OPERATIONS, ids=lambda op: op.label)
def test_every_answer_is_json_as_documented(api_operation, caller, fuzz_ids):
    """No 5xx, no undocumented status, content type or header, every body matching its schema,
    invalid input refused. Valid input may still be refused (positive_data_acceptance is left
    out): cross-field rules (a budget on the campaign or on its ad sets, goals that fit the
    objective) and existing objects (the caller's own account) are beyond a schema."""
    kind = api_operation.path.split("/")[3]
    cases = hypothesis.strategies.one_of(
        [api_operation.as_strategy(generation_mode=mode) for mode in MODES]
    )

    @hypothesis.given(case=cases)
    @hypothesis.settings(
        max_examples=FUZZ_EXAMPLES * len(MODES),
        deadline=None,
        derandomize=True,  # the same cases on every run: CI does not flake
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def check(case: Any) -> None:
        if case.meta.generation.mode.is_positive:
            _with_live_id(case, fuzz_ids, kind)
        case.call_and_validate(headers={"Authorization": f"Token {caller.token}"}, checks=CHECKED)

    check()
