"""Creative formats on submission: carousel, existing Facebook and Instagram posts, and the
Advantage+ creative features every creative sends; what the validator accepts, what it refuses
(naming each bad field), and the plan rows it leads to."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import MediaAsset
from platforms.meta import rules
from platforms.meta.models import MetaCreativeCard, MetaCreativeDetails
from tests import payloads
from tests.factories import AdAccountFactory
from tests.test_meta_validation import DELETE, api_example, assert_valid, errors_of, with_changes

CREATIVE = "ad_sets.0.ads.0.creative"


def with_creative(**changes: Any) -> dict[str, Any]:
    """The API.md example whose first creative has `changes` (DELETE removes a key)."""
    return with_changes(api_example(), {f"{CREATIVE}.{k}": v for k, v in changes.items()})


def errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    prefix = len(CREATIVE) + 1
    return {
        (e.attr[prefix:] if e.attr.startswith(CREATIVE) else e.attr, e.code)
        for e in errors_of(body)
    }


def card(index: int, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "link": f"https://example.com/p/{index}",
        "headline": f"Card {index}",
        "description": "From 9.99",
        "call_to_action": {"type": "SHOP_NOW"},
        "image_url": f"https://cdn.example.com/{index}.jpg",
    }
    spec.update(overrides)
    return spec


def carousel(*cards: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return with_creative(image_url=DELETE, cards=list(cards), **changes)


def cleaned_creative(body: dict[str, Any]) -> dict[str, Any]:
    return assert_valid(body)["ad_sets"][0]["ads"][0]["creative"]


# --- Carousel ---------------------------------------------------------------------------------


def test_a_carousel_keeps_its_cards_in_order_with_their_media() -> None:
    creative = cleaned_creative(
        carousel(
            card(0),
            card(1, image_url=None, image_hash="0123456789abcdef0123456789abcdef"),
            card(2, image_url=None, video_url="https://cdn.example.com/v.mp4",
                 thumbnail_url="https://cdn.example.com/t.jpg"),
        )
    )  # fmt: skip
    assert creative["format"] == rules.FORMAT_CAROUSEL
    assert [c["headline"] for c in creative["cards"]] == ["Card 0", "Card 1", "Card 2"]
    assert creative["cards"][1]["image_hash"] == "0123456789abcdef0123456789abcdef"
    assert creative["cards"][2]["video_url"] == "https://cdn.example.com/v.mp4"
    # The creative's own copy stays (the carousel's primary text and "see more" link).
    assert creative["message"] == "Primary text"


@pytest.mark.parametrize("count", [1, 11])
def test_a_carousel_has_two_to_ten_cards(count: int) -> None:
    (error,) = errors_of(carousel(*[card(i) for i in range(count)]))
    assert error.attr == f"{CREATIVE}.cards"
    assert error.code == ("min_length" if count < 2 else "max_length")


def test_every_bad_card_is_named() -> None:
    without_link = {k: v for k, v in card(0).items() if k != "link"}
    body = carousel(
        without_link,
        card(1, image_url=None),
        card(2, image_hash="abc"),
        card(3, image_url=None, video_url="https://cdn.example.com/v.mp4"),
        card(4, call_to_action={"type": "NOPE"}),
        card(5, call_to_action={"type": "SHOP_NOW", "link": "https://elsewhere.example.com"}),
        card(6, colour="red"),
    )
    assert errors(body) == {
        ("cards.0.link", "required"),
        ("cards.1.image_url", "required"),
        ("cards.2.image_hash", "exclusive"),
        ("cards.3.thumbnail_url", "required"),
        ("cards.4.call_to_action.type", "invalid_choice"),
        ("cards.5.call_to_action.link", "invalid"),
        ("cards.6.colour", "unknown_field"),
    }


def test_cards_replace_the_single_media_source() -> None:
    body = with_creative(cards=[card(0), card(1)])  # image_url still set
    assert errors(body) == {("cards", "exclusive")}


def test_only_a_carousel_has_card_ordering() -> None:
    assert errors(with_creative(multi_share_optimized=True)) == {
        ("multi_share_optimized", "invalid")
    }
    creative = cleaned_creative(carousel(card(0), card(1), multi_share_optimized=True))
    assert creative["multi_share_optimized"] is True


# --- Existing posts -----------------------------------------------------------------------------

POST_ONLY = {key: DELETE for key in ("link", "message", "headline", "description")}


def test_an_existing_facebook_post_needs_only_its_id() -> None:
    creative = cleaned_creative(
        with_creative(
            image_url=DELETE,
            page_id=DELETE,
            call_to_action=DELETE,
            object_story_id="1234567890_987654321",
            **POST_ONLY,
        )
    )
    assert creative["format"] == rules.FORMAT_FACEBOOK_POST
    assert creative["object_story_id"] == "1234567890_987654321"


def test_an_existing_post_refuses_copy_it_would_not_show() -> None:
    body = with_creative(image_url=DELETE, object_story_id="1234567890_987654321")
    # The example's copy and button: Meta runs the post's own.
    assert errors(body) == {
        ("link", "not_applicable"),
        ("message", "not_applicable"),
        ("headline", "not_applicable"),
        ("description", "not_applicable"),
        ("call_to_action", "not_applicable"),
    }


@pytest.mark.parametrize(
    ("story_id", "page_id", "expected"),
    [
        ("987654321", DELETE, ("object_story_id", "invalid")),
        ("12a_34", DELETE, ("object_story_id", "invalid")),
        ("111_222", "333", ("page_id", "invalid")),
    ],
)
def test_a_post_id_is_page_underscore_post(story_id: str, page_id: Any, expected: tuple) -> None:
    body = with_creative(
        image_url=DELETE, page_id=page_id, call_to_action=DELETE, object_story_id=story_id,
        **POST_ONLY,
    )  # fmt: skip
    assert errors(body) == {expected}


def test_an_existing_instagram_post_runs_as_its_account_with_an_optional_button() -> None:
    creative = cleaned_creative(
        with_creative(
            image_url=DELETE,
            message=DELETE,
            headline=DELETE,
            description=DELETE,
            instagram_user_id="17841400000000001",
            source_instagram_media_id="17900000000000002",
        )
    )
    assert creative["format"] == rules.FORMAT_INSTAGRAM_POST
    assert creative["call_to_action"] == {"type": "SHOP_NOW", "link": None}
    assert creative["link"] == "https://example.com/sale"


def test_an_instagram_post_needs_the_instagram_account_and_the_page() -> None:
    body = with_creative(
        image_url=DELETE, page_id=DELETE, message=DELETE, headline=DELETE, description=DELETE,
        source_instagram_media_id="17900000000000002",
    )  # fmt: skip
    assert errors(body) == {("page_id", "required"), ("instagram_user_id", "required")}


def test_one_source_per_creative_whatever_the_format() -> None:
    body = with_creative(object_story_id="1_2", source_instagram_media_id="3")
    assert {code for _, code in errors(body)} >= {"exclusive"}
    assert ("object_story_id", "exclusive") in errors(body)
    assert ("source_instagram_media_id", "exclusive") in errors(body)


@pytest.mark.parametrize("key", ["instagram_actor_id", "poll_spec"])
def test_fields_meta_removed_are_refused_with_what_to_do(key: str) -> None:
    (error,) = errors_of(with_creative(extra_params={key: "x"}))
    assert (error.attr, error.code) == (f"{CREATIVE}.extra_params.{key}", "removed")


@pytest.mark.parametrize(
    "key", ["object_story_spec", "object_story_id", "object_id", "degrees_of_freedom_spec"]
)
def test_extra_params_may_not_carry_what_mojito_builds(key: str) -> None:
    (error,) = errors_of(with_creative(extra_params={key: {}}))
    assert (error.attr, error.code) == (f"{CREATIVE}.extra_params.{key}", "reserved")


# --- Advantage+ creative features ---------------------------------------------------------------


def test_every_known_feature_is_opted_out_unless_the_client_opts_in() -> None:
    creative = cleaned_creative(with_creative(creative_features={"image_touchups": "OPT_IN"}))
    features = creative["creative_features"]
    assert set(features) == rules.CREATIVE_FEATURES
    assert features["image_touchups"] == "OPT_IN"
    assert {v for k, v in features.items() if k != "image_touchups"} == {"OPT_OUT"}
    # Absent means every feature off.
    assert set(cleaned_creative(api_example())["creative_features"].values()) == {"OPT_OUT"}


def test_standard_enhancements_and_unknown_features_are_refused() -> None:
    body = with_creative(
        creative_features={
            "standard_enhancements": "OPT_IN",
            "music": "OPT_IN",
            "image_touchups": "YES",
        }
    )
    found = {e.attr: e for e in errors_of(body)}
    assert set(found) == {
        f"{CREATIVE}.creative_features.standard_enhancements",
        f"{CREATIVE}.creative_features.music",
        f"{CREATIVE}.creative_features.image_touchups",
    }
    assert "v22.0" in found[f"{CREATIVE}.creative_features.standard_enhancements"].detail


# --- Plan rows ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_carousel_is_planned_as_cards_with_one_asset_per_distinct_url(caller: Any) -> None:
    body = carousel(
        card(0),
        card(1, image_url="https://cdn.example.com/0.jpg"),  # the same image as card 0
        card(2, image_url=None, video_url="https://cdn.example.com/v.mp4",
             thumbnail_url="https://cdn.example.com/t.jpg"),
    )  # fmt: skip
    account = AdAccountFactory(team=caller.team)
    body["ad_account_id"] = str(account.pk)
    response = caller.client.post(payloads.META_SUBMIT_URL, body, format="json")
    assert response.status_code == 202, response.content
    details = MetaCreativeDetails.objects.get(creative__job_id=response.json()["id"])
    assert details.format == rules.FORMAT_CAROUSEL
    assert set(details.creative_features.values()) == {"OPT_OUT"}
    cards = list(MetaCreativeCard.objects.filter(creative=details.creative).order_by("position"))
    assert [c.link for c in cards] == [f"https://example.com/p/{i}" for i in range(3)]
    assert cards[0].image_asset_id == cards[1].image_asset_id
    assert cards[2].video_asset.kind == "VIDEO" and cards[2].thumbnail_asset.kind == "IMAGE"
    assert MediaAsset.objects.filter(job_id=response.json()["id"]).count() == 3


def test_an_app_promotion_carousel_needs_three_cards() -> None:
    body = with_changes(
        carousel(card(0), card(1)),
        {
            "campaign.objective": "OUTCOME_APP_PROMOTION",
            "ad_sets.0.optimization_goal": "APP_INSTALLS",
            "ad_sets.0.destination_type": "APP",
            "ad_sets.0.promoted_object": {
                "application_id": "123",
                "object_store_url": "https://apps.apple.com/app/id1",
            },
        },
    )
    assert errors(body) == {("cards", "min_length")}
    body = with_changes(body, {f"{CREATIVE}.cards": [card(0), card(1), card(2)]})
    assert errors(body) == set()


def test_an_instagram_posts_link_needs_its_button() -> None:
    body = with_creative(
        image_url=DELETE, message=DELETE, headline=DELETE, description=DELETE,
        call_to_action=DELETE, instagram_user_id="178", source_instagram_media_id="179",
    )  # fmt: skip
    assert errors(body) == {("link", "invalid")}


def test_metas_own_spelling_image_template_is_taken_as_image_templates() -> None:
    features = cleaned_creative(with_creative(creative_features={"image_template": "OPT_IN"}))[
        "creative_features"
    ]
    assert features["image_templates"] == "OPT_IN"
    assert "image_template" not in features
    # Features beyond the standard enhancements are Meta's too.
    features = cleaned_creative(with_creative(creative_features={"enhance_cta": "OPT_IN"}))[
        "creative_features"
    ]
    assert features["enhance_cta"] == "OPT_IN"
