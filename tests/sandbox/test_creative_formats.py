"""Creative formats and the creative rules of Marketing API v22-v27, through the real SDK over
HTTP: Advantage+ creative features, carousels, existing Facebook and Instagram posts, polls."""

from __future__ import annotations

from typing import Any

import pytest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adcreative import AdCreative

from platforms.meta.sandbox import DEMO_PAGE_ID

from .conftest import Sandbox, account_at, refused

LINK = "https://example.com/sale"


def link_story(image_hash: str, **link_data: Any) -> dict[str, Any]:
    return {
        "page_id": DEMO_PAGE_ID,
        "link_data": {
            "link": LINK,
            "message": "Primary text",
            "image_hash": image_hash,
            **link_data,
        },
    }


def read_creative(account: AdAccount, creative_id: str, *fields: str) -> dict[str, Any]:
    read = AdCreative(creative_id, api=account.get_api()).api_get(fields=list(fields))
    return read.export_all_data()


# --- Advantage+ creative ------------------------------------------------------------------------


def test_creative_features_are_opted_in_and_out_one_by_one(
    sandbox: Sandbox, account: AdAccount
) -> None:
    features = {
        "image_touchups": {"enroll_status": "OPT_IN"},
        "inline_comment": {"enroll_status": "OPT_OUT"},
        "image_animation": {"enroll_status": "OPT_IN", "customizations": {"style": "subtle"}},
        "video_filtering": {"enroll_status": "OPT_OUT"},
    }
    created = account.create_ad_creative(
        params={
            "name": "Enhanced",
            "object_story_spec": link_story(sandbox.image_hash()),
            "degrees_of_freedom_spec": {"creative_features_spec": features},
        }
    )
    read = read_creative(account, created["id"], "degrees_of_freedom_spec")
    assert read["degrees_of_freedom_spec"] == {"creative_features_spec": features}


@pytest.mark.parametrize("bundle", ["standard_enhancements", "standard_enhancements_catalog"])
def test_the_standard_enhancements_bundle_is_refused(
    sandbox: Sandbox, account: AdAccount, bundle: str
) -> None:
    spec = {"creative_features_spec": {bundle: {"enroll_status": "OPT_IN"}}}
    story = link_story(sandbox.image_hash())
    error = refused(
        lambda: account.create_ad_creative(
            params={"object_story_spec": story, "degrees_of_freedom_spec": spec}
        )
    )
    assert error.api_error_code() == 100
    assert error.body()["error"]["error_user_msg"].startswith(
        "Opting ads in to and previewing ads using the STANDARD_ENHANCEMENTS bundle is no longer "
        "supported."
    )
    assert error.api_blame_field_specs() == [
        ["degrees_of_freedom_spec", "creative_features_spec", bundle]
    ]
    # The same inside an ad's inline creative: neither the creative nor the ad is made.
    adset_id = sandbox.adset(sandbox.campaign())
    error = refused(
        lambda: account.create_ad(
            params={
                "name": "Ad",
                "adset_id": adset_id,
                "creative": {"object_story_spec": story, "degrees_of_freedom_spec": spec},
            }
        )
    )
    assert error.body()["error"]["error_user_title"] == "Standard enhancements no longer supported"
    assert sandbox.objects("adcreative") == [] and sandbox.objects("ad") == []
    # Before v22.0 the bundle was still taken.
    sandbox.configure(min_api_version="v21.0")
    old = account_at(sandbox, "v21.0").create_ad_creative(
        params={"object_story_spec": story, "degrees_of_freedom_spec": spec}
    )
    assert old["id"]


def test_unknown_features_and_enroll_statuses_are_refused(
    sandbox: Sandbox, account: AdAccount
) -> None:
    story = link_story(sandbox.image_hash())

    def create(features: dict[str, Any]) -> object:
        return account.create_ad_creative(
            params={
                "object_story_spec": story,
                "degrees_of_freedom_spec": {"creative_features_spec": features},
            }
        )

    unknown = refused(lambda: create({"music": {"enroll_status": "OPT_IN"}}))
    assert unknown.body()["error"]["error_user_title"] == "Unknown Advantage+ creative feature"
    status = refused(lambda: create({"image_touchups": {"enroll_status": "ON"}}))
    assert status.api_error_message() == (
        "(#100) Param degrees_of_freedom_spec[creative_features_spec][image_touchups]"
        "[enroll_status] must be one of {OPT_IN, OPT_OUT}"
    )
    shape = refused(lambda: create({"image_touchups": "OPT_IN"}))
    assert shape.api_error_message() == (
        "(#100) Param degrees_of_freedom_spec[creative_features_spec][image_touchups] must be a "
        "JSON object"
    )
    # Meta's own example spells the templates feature "image_template".
    assert create({"image_template": {"enroll_status": "OPT_IN"}})["id"]
