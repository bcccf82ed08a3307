"""Creative formats and the creative rules of Marketing API v22-v27, through the real SDK over
HTTP: Advantage+ creative features, carousels, existing Facebook and Instagram posts, polls."""

from __future__ import annotations

from typing import Any

import pytest
from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adcreative import AdCreative

from platforms.meta.sandbox import DEMO_ACCOUNT_ID, DEMO_PAGE_ID
from platforms.meta.sandbox.state import GraphObject

from .conftest import ACT, Sandbox, account_at, mp4_bytes, refused

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


# --- carousels ----------------------------------------------------------------------------------


def card(index: int, **fields: Any) -> dict[str, Any]:
    return {"link": f"{LINK}/{index}", "name": f"Card {index}", **fields}


def carousel(cards: list[dict[str, Any]], **link_data: Any) -> dict[str, Any]:
    return {
        "page_id": DEMO_PAGE_ID,
        "link_data": {"message": "Swipe", "child_attachments": cards, **link_data},
    }


def ready_video(sandbox: Sandbox) -> str:
    sandbox.configure(video_ready_after=0)
    response = sandbox.post(
        f"{ACT}/advideos", files={"source": ("clip.mp4", mp4_bytes(), "video/mp4")}
    )
    return response.json()["id"]


def test_a_carousel_of_image_picture_and_video_cards_is_stored(
    sandbox: Sandbox, account: AdAccount
) -> None:
    image_hash = sandbox.image_hash()
    cards = [
        card(1, image_hash=image_hash, call_to_action={"type": "SHOP_NOW"}),
        card(
            2,
            picture="https://cdn.example.com/2.jpg",
            call_to_action={"type": "LEARN_MORE", "value": {"link": f"{LINK}/2"}},
        ),
        card(3, video_id=ready_video(sandbox), image_hash=image_hash),
    ]
    spec = carousel(cards, multi_share_optimized=True, multi_share_end_card=False)
    created = account.create_ad_creative(params={"name": "Carousel", "object_story_spec": spec})
    read = read_creative(account, created["id"], "object_story_spec")
    link_data = read["object_story_spec"]["link_data"]
    assert [c["link"] for c in link_data["child_attachments"]] == [f"{LINK}/{i}" for i in (1, 2, 3)]
    assert (link_data["multi_share_optimized"], link_data["multi_share_end_card"]) == (True, False)
    # link_data.link stays accepted next to the cards (the "see more" destination).
    with_link = account.create_ad_creative(
        params={"name": "Carousel 2", "object_story_spec": carousel(cards[:2], link=LINK)}
    )
    assert with_link["id"] != created["id"]


def test_a_carousel_has_2_to_10_cards(sandbox: Sandbox, account: AdAccount) -> None:
    image_hash = sandbox.image_hash()

    def create(count: int) -> object:
        cards = [card(i, image_hash=image_hash) for i in range(count)]
        return account.create_ad_creative(params={"object_story_spec": carousel(cards)})

    one = refused(lambda: create(1))
    assert one.body()["error"]["error_user_title"] == "Not enough carousel cards"
    assert one.api_blame_field_specs() == [["object_story_spec[link_data][child_attachments]"]]
    eleven = refused(lambda: create(11))
    assert eleven.api_error_code() == 100
    assert eleven.body()["error"]["error_user_msg"] == "Only 10 children are allowed."
    assert create(2)["id"] and create(10)["id"]


def test_every_card_has_a_link_and_an_image(sandbox: Sandbox, account: AdAccount) -> None:
    image_hash = sandbox.image_hash()
    good = card(0, image_hash=image_hash)

    def create(second: dict[str, Any]) -> object:
        return account.create_ad_creative(params={"object_story_spec": carousel([good, second])})

    no_link = refused(lambda: create({"image_hash": image_hash}))
    assert no_link.api_error_message() == (
        "(#100) The parameter object_story_spec[link_data][child_attachments][1][link] is required"
    )
    no_image = refused(lambda: create(card(1)))
    assert no_image.body()["error"]["error_user_msg"].startswith(
        "Each attachment must have either a picture or image_hash set."
    )
    video_only = refused(lambda: create(card(1, video_id=ready_video(sandbox))))
    assert video_only.body()["error"]["error_user_msg"] == (
        "When video_id is used, image_hash or picture must also be specified."
    )
    ftp = refused(lambda: create(card(1, picture="ftp://x/1.jpg")))
    assert ftp.body()["error"]["error_user_title"] == "Invalid picture URL"
    unknown_image = refused(lambda: create(card(1, image_hash="0" * 32)))
    assert unknown_image.body()["error"]["error_user_title"] == "Image not found"
    unknown_video = refused(lambda: create(card(1, video_id="900000000000999", picture=LINK)))
    assert unknown_video.body()["error"]["error_user_title"] == "Video not found"


def test_a_card_call_to_action_links_to_the_card(sandbox: Sandbox, account: AdAccount) -> None:
    image_hash = sandbox.image_hash()
    good = card(0, image_hash=image_hash)

    def create(cta: dict[str, Any]) -> object:
        second = card(1, image_hash=image_hash, call_to_action=cta)
        return account.create_ad_creative(params={"object_story_spec": carousel([good, second])})

    mismatch = refused(lambda: create({"type": "SHOP_NOW", "value": {"link": f"{LINK}/other"}}))
    assert mismatch.api_error_code() == 100
    assert mismatch.body()["error"]["error_user_title"] == "Carousel card link mismatch"
    bad_type = refused(lambda: create({"type": "BUY_IT_NOW"}))
    assert bad_type.api_error_message().startswith(
        "(#100) Param object_story_spec[link_data][child_attachments][1][call_to_action][type] "
        "must be one of {"
    )
    assert create({"type": "SHOP_NOW", "value": {"link": f"{LINK}/1"}})["id"]


def test_carousel_flags_are_booleans(sandbox: Sandbox, account: AdAccount) -> None:
    image_hash = sandbox.image_hash()
    cards = [card(i, image_hash=image_hash) for i in range(2)]
    error = refused(
        lambda: account.create_ad_creative(
            params={"object_story_spec": carousel(cards, multi_share_optimized="yes")}
        )
    )
    assert error.api_error_message() == (
        "(#100) Param object_story_spec[link_data][multi_share_optimized] must be a boolean"
    )


# --- existing posts -----------------------------------------------------------------------------

IG_USER = "17841400000000001"


def test_a_page_post_is_promoted_by_its_id(sandbox: Sandbox, account: AdAccount) -> None:
    post_id = sandbox.control("POST", "posts", page_id=DEMO_PAGE_ID, message="Hello")["id"]
    assert post_id.startswith(f"{DEMO_PAGE_ID}_")
    assert sandbox.control("GET", "posts")["data"][0]["message"] == "Hello"
    created = account.create_ad_creative(
        params={"name": "Boost", "object_story_id": post_id, "instagram_user_id": IG_USER}
    )
    read = read_creative(
        account, created["id"], "object_story_id", "effective_object_story_id", "actor_id"
    )
    assert read["object_story_id"] == read["effective_object_story_id"] == post_id
    assert read["actor_id"] == DEMO_PAGE_ID
    again = account.create_ad_creative(
        params={"name": "Boost", "object_story_id": post_id, "instagram_user_id": IG_USER}
    )
    assert again["id"] == created["id"]


def test_only_known_posts_of_the_tokens_pages_are_promoted(
    sandbox: Sandbox, account: AdAccount
) -> None:
    def create(story_id: str) -> object:
        return account.create_ad_creative(params={"object_story_id": story_id})

    malformed = refused(lambda: create("12345"))
    assert (malformed.api_error_code(), malformed.body()["error"]["error_user_title"]) == (
        100,
        "Invalid post",
    )
    unknown = refused(lambda: create(f"{DEMO_PAGE_ID}_987"))
    assert unknown.body()["error"]["error_user_title"] == "Post not found"
    assert unknown.api_blame_field_specs() == [["object_story_id"]]
    foreign = sandbox.control("POST", "posts", page_id="999999999")["id"]
    other_page = refused(lambda: create(foreign))
    assert other_page.body()["error"]["error_user_title"] == "Invalid Page"


def test_the_unpublished_post_of_a_creative_can_be_promoted_again(
    sandbox: Sandbox, account: AdAccount
) -> None:
    first = account.create_ad_creative(
        params={"name": "Dark post", "object_story_spec": link_story(sandbox.image_hash())}
    )
    story_id = read_creative(account, first["id"], "effective_object_story_id")[
        "effective_object_story_id"
    ]
    posts = {post["id"]: post for post in sandbox.control("GET", "posts")["data"]}
    assert posts[story_id]["is_published"] is False
    second = account.create_ad_creative(params={"name": "Reuse", "object_story_id": story_id})
    assert second["id"] != first["id"]


def test_an_instagram_post_is_promoted_with_its_account_and_page(
    sandbox: Sandbox, account: AdAccount
) -> None:
    media_id = sandbox.control(
        "POST", "instagram_media", instagram_user_id=IG_USER, caption="New drop"
    )["id"]
    assert media_id.isdigit()
    params = {
        "name": "IG boost",
        "object_id": DEMO_PAGE_ID,
        "instagram_user_id": IG_USER,
        "source_instagram_media_id": media_id,
        "call_to_action": {"type": "SHOP_NOW", "value": {"link": LINK}},
    }
    created = account.create_ad_creative(params=params)
    read = read_creative(
        account,
        created["id"],
        "source_instagram_media_id",
        "effective_instagram_media_id",
        "instagram_user_id",
        "call_to_action",
    )
    assert read["effective_instagram_media_id"] == read["source_instagram_media_id"] == media_id
    assert read["instagram_user_id"] == IG_USER
    assert read["call_to_action"]["type"] == "SHOP_NOW"
    assert account.create_ad_creative(params=params)["id"] == created["id"]


def test_an_instagram_post_needs_its_own_account_and_a_page(
    sandbox: Sandbox, account: AdAccount
) -> None:
    media_id = sandbox.control("POST", "instagram_media", instagram_user_id=IG_USER)["id"]
    base = {
        "object_id": DEMO_PAGE_ID,
        "instagram_user_id": IG_USER,
        "source_instagram_media_id": media_id,
    }

    def create(**changes: Any) -> object:
        params = {k: v for k, v in {**base, **changes}.items() if v is not None}
        return account.create_ad_creative(params=params)

    assert refused(lambda: create(instagram_user_id=None)).api_error_message() == (
        "(#100) The parameter instagram_user_id is required"
    )
    assert refused(lambda: create(object_id=None)).api_error_message() == (
        "(#100) The parameter object_id is required"
    )
    other_account = refused(lambda: create(instagram_user_id="17841400000000999"))
    assert other_account.body()["error"]["error_user_title"] == "Instagram post of another account"
    unknown = refused(lambda: create(source_instagram_media_id="17900000000999999"))
    assert unknown.body()["error"]["error_user_title"] == "Instagram post not found"
    other_page = refused(lambda: create(object_id="999999999"))
    assert other_page.body()["error"]["error_user_title"] == "Invalid Page"
    bad_cta = refused(lambda: create(call_to_action={"type": "BUY_IT_NOW"}))
    assert bad_cta.api_error_message().startswith(
        "(#100) Param call_to_action[type] must be one of"
    )


def test_instagram_actor_id_is_refused_everywhere(sandbox: Sandbox, account: AdAccount) -> None:
    story = link_story(sandbox.image_hash())
    adset_id = sandbox.adset(sandbox.campaign())
    creative_id = account.create_ad_creative(params={"object_story_spec": story})["id"]
    ad = account.create_ad(
        params={"name": "Ad", "adset_id": adset_id, "creative": {"creative_id": creative_id}}
    )
    attempts = {
        "creative": lambda: account.create_ad_creative(
            params={"object_story_spec": story, "instagram_actor_id": IG_USER}
        ),
        "object_story_spec": lambda: account.create_ad_creative(
            params={"object_story_spec": {**story, "instagram_actor_id": IG_USER}}
        ),
        "ad": lambda: account.create_ad(
            params={
                "name": "Ad 2",
                "adset_id": adset_id,
                "creative": {"creative_id": creative_id},
                "instagram_actor_id": IG_USER,
            }
        ),
        "ad update": lambda: Ad(ad["id"], api=account.get_api()).api_update(
            params={"instagram_actor_id": IG_USER}
        ),
        "v25.0": lambda: account_at(sandbox, "v25.0").create_ad_creative(
            params={"object_story_spec": story, "instagram_actor_id": IG_USER}
        ),
    }
    for where, attempt in attempts.items():
        error = refused(attempt)
        assert error.api_error_code() == 100, where
        assert error.body()["error"]["error_user_msg"] == (
            "The instagram_actor_id field is deprecated. Please migrate your API calls to use "
            "the new instagram_user_id field."
        ), where
    assert account.create_ad_creative(
        params={"object_story_spec": {**story, "instagram_user_id": IG_USER}}
    )["id"]


def test_a_creative_takes_its_content_from_one_source(sandbox: Sandbox, account: AdAccount) -> None:
    post_id = sandbox.control("POST", "posts", page_id=DEMO_PAGE_ID)["id"]
    media_id = sandbox.control("POST", "instagram_media", instagram_user_id=IG_USER)["id"]
    story = link_story(sandbox.image_hash())
    for mix in (
        {"object_story_spec": story, "object_story_id": post_id},
        {
            "object_story_spec": story,
            "source_instagram_media_id": media_id,
            "instagram_user_id": IG_USER,
            "object_id": DEMO_PAGE_ID,
        },
        {"object_story_id": post_id, "source_instagram_media_id": media_id},
    ):
        error = refused(lambda mix=mix: account.create_ad_creative(params=mix))
        assert error.api_error_code() == 100
        assert error.body()["error"]["error_user_title"] == "Conflicting creative content"


# --- polls --------------------------------------------------------------------------------------

POLL_MESSAGE = (
    'Poll is no longer available in ad creative. The poll_spec field and the "poll" enum value '
    "for the type field under interactive_components_spec are no longer available when creating "
    "or updating ads."
)


def test_poll_creatives_are_refused(sandbox: Sandbox, account: AdAccount) -> None:
    story = link_story(sandbox.image_hash())
    poll = {"type": "poll", "question": "Which one?", "options": ["Red", "Blue"]}
    for version in ("v25.0", "v26.0"):  # v26.0, and every version since October 27, 2026
        for extra, field in (
            ({"poll_spec": {"question": "Which one?"}}, "poll_spec"),
            (
                {"interactive_components_spec": {"components": [poll]}},
                "interactive_components_spec",
            ),
            (
                {"interactive_components_spec": {"child_attachments": [{"components": [poll]}]}},
                "interactive_components_spec",
            ),
        ):
            error = refused(
                lambda version=version, extra=extra: account_at(
                    sandbox, version
                ).create_ad_creative(params={"object_story_spec": story, **extra})
            )
            assert error.api_error_code() == 100
            assert error.body()["error"]["error_user_msg"] == POLL_MESSAGE
            assert error.api_blame_field_specs() == [[field]]
    assert sandbox.objects("adcreative") == []
    assert account.create_ad_creative(params={"object_story_spec": story})["id"]


def test_an_ad_cannot_switch_to_an_old_poll_creative(sandbox: Sandbox, account: AdAccount) -> None:
    adset_id = sandbox.adset(sandbox.campaign())
    plain_id = sandbox.creative()
    # A poll creative made before polls were removed (the sandbox can no longer make one).
    with sandbox.state.lock:
        poll_id = sandbox.state.new_id("adcreative")
        sandbox.state.add_object(
            GraphObject(
                poll_id,
                "adcreative",
                DEMO_ACCOUNT_ID,
                None,
                {"id": poll_id, "poll_spec": {"question": "Which one?"}},
                0.0,
                0.0,
            )
        )
    error = refused(
        lambda: account.create_ad(
            params={"name": "Poll ad", "adset_id": adset_id, "creative": {"creative_id": poll_id}}
        )
    )
    assert error.body()["error"]["error_user_msg"] == POLL_MESSAGE
    ad = Ad(
        account.create_ad(
            params={"name": "Ad", "adset_id": adset_id, "creative": {"creative_id": plain_id}}
        )["id"],
        api=account.get_api(),
    )
    error = refused(lambda: ad.api_update(params={"creative": {"creative_id": poll_id}}))
    assert error.api_blame_field_specs() == [["creative[poll_spec]"]]
    ad.api_update(params={"name": "Renamed"})  # updates that keep the creative still work
    assert ad.api_get(fields=["name", "creative"])["creative"]["id"] == plain_id
